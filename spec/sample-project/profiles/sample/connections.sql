-- One row per Ed-Fi connection (district + configured school year) served by this profile.
SELECT c.configID,
       c.districtID,
       c.endYear,
       c.profile,
       COALESCE(sy.startDate, printf('%04d-07-01', c.endYear - 1)) AS yearStart,
       COALESCE(sy.endDate,   printf('%04d-06-30', c.endYear))     AS yearEnd,
       COALESCE(t.enabled, 1)                                      AS resourceEnabled,
       d.number                                                    AS districtNumber
FROM EdFiConfiguration c
JOIN District d            ON d.districtID = c.districtID
LEFT JOIN SchoolYear sy    ON sy.endYear = c.endYear
LEFT JOIN EdFiResourceToggle t ON t.configID = c.configID AND t.resource = :resource
WHERE lower(c.profile) = lower(:profile) AND c.enabled = 1
ORDER BY c.districtID, c.endYear, c.configID
