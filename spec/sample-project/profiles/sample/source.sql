-- One candidate per CTE program record of the connection's district.
SELECT pp.participationID,
       pp.personID,
       per.stateID,
       pp.startDate,
       pp.endDate,
       json_object('start', pp.startDate, 'end', pp.endDate) AS programPeriod,
       pp.studentStatus,
       p.name AS programName
FROM ProgramParticipation pp
JOIN Program p  ON p.programID = pp.programID
JOIN Person per ON per.personID = pp.personID
WHERE p.type = 'CTE' AND p.districtID = :districtID
ORDER BY pp.participationID
