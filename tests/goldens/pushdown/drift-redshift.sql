SELECT CAST("defaulted" AS VARCHAR(MAX)) AS v, COUNT(*) FROM "lending"."credit_applications_v2" GROUP BY v
