-- Missouri: one candidate per Enrollment of the configured year in the connection's district, for students
-- who have at least one Career Tech (CTE) program record. Source key: enrollmentID.
-- Parameters: :configID, :districtID, :endYear, :yearStart, :yearEnd (the configured year, NULL defaults applied).
--
-- Why the enrollment: Missouri reports beginDate = "the start date of the Enrollment", and its Career Cluster and
-- CTE Program Type are Enrollment state reporting fields ("Enrollments > State Reporting Fields > Career
-- Cluster", "... > CTE Program Type"), so one Ed-Fi record stands for one enrollment.
-- Decision: an enrollment belongs to the configured year when its calendar is of that school year and its
-- school is in the connection's district. Whether its dates overlap the year is left to the rule
-- mo.trigger.enrollment-in-year, so a record moved out of the year is deleted with that rule as the reason.
-- Decision: a student with several enrollments in the year (two schools, a re-entry) gets one record per
-- enrollment; they differ by beginDate. Two enrollments with the same start date and CTE Program Type have the
-- same natural key: the second is held back as a natural-key conflict (duplicate data in Campus).
--
-- ctePrograms: every CTE program record of the student, latest Start Date first. `start`/`end` are the
-- record's Start Date and End Date (named so the period operators read them; NULL = open-ended).
-- Decision: a CTE program record is one of a Program whose Program Type is 'CTE', of this district or of no
-- district (a state-wide program setup). Missouri has no "only mapped programs" rule: unlike Core, any CTE
-- record counts, mapped in Resource Preferences or not.
--
-- certificationStatus (per record) and technicalSkillsStatus (the record as a whole) are the Campus values
-- looked up in Resource Preferences > technicalSkillsAssessmentDescriptor (see the mapping, mo.map.technical-skills-assessment):
--   'Passing'   the deciding certification has Passed checked,
--   'Attempted' it has Attempted checked or a Date entered, but not Passed,
--   'No Record' there is no such certification.
-- The deciding certification is the latest by Date (a NULL Date is the oldest), then the highest
-- Participation Certification ID; for technicalSkillsStatus it is taken over the certifications of the
-- student's CTE records that overlap the configured year.
WITH cte_record AS (
  SELECT pp.participationID, pp.personID, pp.startDate, pp.endDate, pp.studentStatus,
         p.code AS programCode, p.name AS programName
    FROM ProgramParticipation pp
    JOIN Program p ON p.programID = pp.programID
   WHERE p.type = 'CTE'
     AND (p.districtID = :districtID OR p.districtID IS NULL)
),
certification AS (
  -- Decision: a certification row with neither box checked and no Date says nothing about the student and is
  -- not counted (so it cannot hide an earlier Passing one).
  SELECT c.certificationID, c.participationID, c.certificationDate,
         CASE WHEN c.passed = 1 THEN 'Passing' ELSE 'Attempted' END AS status
    FROM ProgramParticipationCertification c
   WHERE c.passed = 1 OR c.attempted = 1 OR c.certificationDate IS NOT NULL
),
cte_record_status AS (
  SELECT r.*,
         COALESCE((SELECT cert.status FROM certification cert
                    WHERE cert.participationID = r.participationID
                    ORDER BY cert.certificationDate IS NULL, cert.certificationDate DESC, cert.certificationID DESC
                    LIMIT 1), 'No Record') AS certificationStatus
    FROM cte_record r
)
SELECT e.enrollmentID,
       e.personID,
       per.stateID,
       e.calendarID,
       cal.schoolID,
       e.startDate,
       e.endDate,
       json_object('start', e.startDate, 'end', e.endDate)            AS enrollmentPeriod,
       e.noShow,
       cal.exclude                                                    AS calendarExclude,
       sch.exclude                                                    AS schoolExclude,
       e.careerCluster,
       e.cteProgramType,
       (SELECT json_group_array(json_object(
                 'participationID', r.participationID,
                 'programCode', r.programCode,
                 'programName', r.programName,
                 'start', r.startDate,
                 'end', r.endDate,
                 'studentStatus', r.studentStatus,
                 'certificationStatus', r.certificationStatus)
                 ORDER BY r.startDate IS NULL, r.startDate DESC, r.participationID DESC)
          FROM cte_record_status r
         WHERE r.personID = e.personID)                                AS ctePrograms,
       COALESCE((SELECT cert.status
                   FROM certification cert
                   JOIN cte_record r ON r.participationID = cert.participationID
                  WHERE r.personID = e.personID
                    AND (r.startDate IS NULL OR r.startDate <= :yearEnd)
                    AND (r.endDate IS NULL OR r.endDate >= :yearStart)
                  ORDER BY cert.certificationDate IS NULL, cert.certificationDate DESC, cert.certificationID DESC
                  LIMIT 1), 'No Record')                               AS technicalSkillsStatus
FROM Enrollment e
JOIN Calendar cal ON cal.calendarID = e.calendarID
JOIN School sch   ON sch.schoolID = cal.schoolID
JOIN Person per   ON per.personID = e.personID
WHERE cal.endYear = :endYear
  AND sch.districtID = :districtID
  AND EXISTS (SELECT 1 FROM cte_record r WHERE r.personID = e.personID)
ORDER BY e.enrollmentID
