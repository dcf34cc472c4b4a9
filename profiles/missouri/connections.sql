-- One row per Missouri Ed-Fi connection (district + configured school year) served by this profile.
-- Missouri "Scope Year Logic": "Data will only send for the years that have valid configuration." A year is
-- sent only when it has an enabled EdFiConfiguration row of this profile; the years that have Career Tech
-- records but no such row are reported by profiles/missouri/uncovered-years.sql.
-- School Year dates as in Core: "If Start Date is NULL, 07/01/StartYear will be used. If End Date is NULL,
-- 06/30/EndYear will be used."
-- Decision (as Core): a year with no School Year Setup row at all is treated like one with both dates NULL.
-- resourceEnabled: the connection's Resource Toggle for this resource (a missing row means on). Missouri:
-- "When a resource is toggled to off after data has sent, all sent data remains in the ODS but no new data
-- sends." (profile.yaml: whenResourceDisabled: keep).
-- districtNumber: the State District Number, the LEA educationOrganizationId of every record.
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
