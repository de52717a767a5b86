SELECT CAST("defaulted" AS TEXT) AS v, COUNT(*) FROM "lending"."credit_applications_v2" GROUP BY v
