SELECT CAST(`defaulted` AS STRING) AS v, COUNT(*) FROM `lending`.`credit_applications_v2` GROUP BY v
