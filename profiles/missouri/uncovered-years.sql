-- Missouri "Scope Year Logic": "The record will send to and year that the student's Career Tech record overlaps
-- with. Data will only send for the years that have valid configuration."
-- The engine sends each configured year (connection) on its own; this query finds the years it will NOT send:
-- one row per (district, school year) where Career Tech records overlap the year but the district has no
-- enabled Missouri EdFiConfiguration for that year. Parameters: :profile, :resource.
--
-- School year windows as everywhere else: "If Start Date is NULL, 07/01/StartYear will be used. If End Date is
-- NULL, 06/30/EndYear will be used." Years come from School Year Setup (SchoolYear).
-- Decision: only districts that have some Missouri EdFiConfiguration (enabled or not) are looked at, and only
-- school years from the district's first configured year on. A district that never set up Missouri Ed-Fi, or a
-- year before it started sending, is history nobody will configure: warning about it every night is noise.
-- Decision: a Career Tech record counts for a year when it overlaps the year window and its student has an
-- enrollment of that year in the district (a calendar of the year, dates overlapping the window): without one
-- nothing would be sent even with a configuration (Missouri triggers need "an enrollment in the configured
-- year"). Exclusions (No Show, blank Career Cluster, ...) are not looked at: the warning is about configuration.
-- Decision: a year whose configuration exists but has the resource toggled off is configured on purpose and
-- is not reported here (the plan says so for that connection).
WITH year_window AS (
  SELECT sy.endYear,
         COALESCE(sy.startDate, printf('%04d-07-01', sy.endYear - 1)) AS yearStart,
         COALESCE(sy.endDate,   printf('%04d-06-30', sy.endYear))     AS yearEnd
    FROM SchoolYear sy
),
missouri_district AS (
  SELECT c.districtID, MIN(c.endYear) AS firstYear
    FROM EdFiConfiguration c
   WHERE lower(c.profile) = lower(:profile)
   GROUP BY c.districtID
)
SELECT d.districtID,
       d.number                             AS districtNumber,
       d.name                               AS districtName,
       y.endYear,
       COUNT(DISTINCT pp.participationID)   AS records,
       :resource                            AS resource
  FROM missouri_district md
  JOIN District d              ON d.districtID = md.districtID
  JOIN year_window y           ON y.endYear >= md.firstYear
  JOIN Calendar cal            ON cal.endYear = y.endYear
  JOIN School sch              ON sch.schoolID = cal.schoolID AND sch.districtID = d.districtID
  JOIN Enrollment e            ON e.calendarID = cal.calendarID
                              AND e.startDate <= y.yearEnd AND (e.endDate IS NULL OR e.endDate >= y.yearStart)
  JOIN ProgramParticipation pp ON pp.personID = e.personID
                              AND (pp.startDate IS NULL OR pp.startDate <= y.yearEnd)
                              AND (pp.endDate IS NULL OR pp.endDate >= y.yearStart)
  JOIN Program p               ON p.programID = pp.programID AND p.type = 'CTE'
                              AND (p.districtID = d.districtID OR p.districtID IS NULL)
 WHERE NOT EXISTS (SELECT 1 FROM EdFiConfiguration c
                    WHERE c.districtID = d.districtID AND c.endYear = y.endYear
                      AND lower(c.profile) = lower(:profile) AND c.enabled = 1)
 GROUP BY d.districtID, d.number, d.name, y.endYear
 ORDER BY d.districtID, y.endYear
