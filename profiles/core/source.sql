-- Core: one candidate per Career Tech (CTE) program record (ProgramParticipation) of the district.
-- Parameters: :configID, :districtID, :endYear, :yearStart, :yearEnd (the configured year, NULL defaults applied).
--
-- The student's enrollment for the configured year: of the enrollments in a calendar of that year in the
-- district, the one most favourable to sending is chosen (overlapping the year first, then not No Show /
-- Calendar Exclude / School Exclude, then the latest start). The rules then decide on it, so a student is
-- excluded only when no enrollment of the year qualifies.
-- Decision (spec silent on several enrollments in a year): one qualifying enrollment is enough.
WITH enrollment_in_year AS (
  SELECT e.enrollmentID, e.personID, e.startDate, e.endDate, e.noShow,
         cal.exclude AS calendarExclude, sch.exclude AS schoolExclude,
         ROW_NUMBER() OVER (
           PARTITION BY e.personID
           ORDER BY CASE WHEN e.startDate <= :yearEnd AND (e.endDate IS NULL OR e.endDate >= :yearStart) THEN 0 ELSE 1 END,
                    CASE WHEN e.noShow = 0 AND cal.exclude = 0 AND sch.exclude = 0 THEN 0 ELSE 1 END,
                    e.startDate DESC, e.enrollmentID DESC) AS pick
  FROM Enrollment e
  JOIN Calendar cal ON cal.calendarID = e.calendarID
  JOIN School sch   ON sch.schoolID = cal.schoolID
  WHERE cal.endYear = :endYear AND sch.districtID = :districtID
)
SELECT pp.participationID,
       pp.personID,
       per.stateID,
       pp.startDate,
       pp.endDate,
       json_object('start', pp.startDate, 'end', pp.endDate)          AS programPeriod,
       pp.studentStatus,
       pp.nonTraditional,
       p.programID,
       p.name        AS programName,
       p.code        AS programCode,
       p.type        AS programType,
       p.category    AS programCategory,
       p.stateCode   AS cipCode,
       -- Spec: "Only CTE programs that are mapped to an Ed-Fi Code will be reported. This mapping can be found in
       -- the Resource Preferences of the Ed-Fi Connection under the Programs resource."
       (SELECT rp.edfiCode FROM EdFiResourcePreference rp
         WHERE rp.configID = :configID AND rp.resource = 'programs'
           AND rp.element = 'programTypeDescriptor' AND rp.campusValue = p.code) AS programTypeCode,
       enr.enrollmentID,
       CASE WHEN enr.enrollmentID IS NULL THEN NULL
            ELSE json_object('start', enr.startDate, 'end', enr.endDate) END AS enrollmentPeriod,
       enr.noShow,
       enr.calendarExclude,
       enr.schoolExclude,
       -- Spec: "If there are multiple certifications, report based on the following priority order:
       -- Most recent (latest) Date; Highest Participation Certification ID". A NULL date counts as the oldest.
       (SELECT json_object('certificationID', c.certificationID, 'name', c.name, 'attempted', c.attempted,
                           'passed', c.passed, 'certificationDate', c.certificationDate)
          FROM ProgramParticipationCertification c
         WHERE c.participationID = pp.participationID
         ORDER BY c.certificationDate IS NULL, c.certificationDate DESC, c.certificationID DESC
         LIMIT 1) AS latestCertification
FROM ProgramParticipation pp
JOIN Program p    ON p.programID = pp.programID
JOIN Person per   ON per.personID = pp.personID
LEFT JOIN enrollment_in_year enr ON enr.personID = pp.personID AND enr.pick = 1
WHERE p.type = 'CTE'
  AND (p.districtID = :districtID OR (p.districtID IS NULL AND enr.enrollmentID IS NOT NULL))
ORDER BY pp.participationID
