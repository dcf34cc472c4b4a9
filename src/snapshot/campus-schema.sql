-- The Campus snapshot the engine reads: a read-only SQLite export of Infinite Campus tables,
-- replaced every night. Column names follow Campus where the specifications name them
-- (ProgramParticipation.startDate, Program.code, ProgramParticipationCertification.passed, ...).
-- Dates are ISO-8601 text (YYYY-MM-DD); checkboxes are INTEGER 0/1; NULL means "not entered".

CREATE TABLE District (
  districtID      INTEGER PRIMARY KEY,
  name            TEXT NOT NULL,
  number          TEXT NOT NULL            -- State District Number: the Ed-Fi LEA educationOrganizationId
);

CREATE TABLE School (
  schoolID        INTEGER PRIMARY KEY,
  districtID      INTEGER NOT NULL REFERENCES District(districtID),
  name            TEXT NOT NULL,
  number          TEXT,                    -- state school number
  exclude         INTEGER NOT NULL DEFAULT 0   -- School Exclude checkbox
);

CREATE TABLE SchoolYear (
  endYear         INTEGER PRIMARY KEY,     -- 2026 is the 2025-26 school year
  label           TEXT,
  startDate       TEXT,                    -- NULL: 07/01/StartYear is used (spec)
  endDate         TEXT                     -- NULL: 06/30/EndYear is used (spec)
);

CREATE TABLE Calendar (
  calendarID      INTEGER PRIMARY KEY,
  schoolID        INTEGER NOT NULL REFERENCES School(schoolID),
  endYear         INTEGER NOT NULL,
  name            TEXT NOT NULL,
  exclude         INTEGER NOT NULL DEFAULT 0   -- Calendar Exclude checkbox
);

CREATE TABLE Person (
  personID        INTEGER PRIMARY KEY,
  stateID         TEXT,                    -- Student State ID: the Ed-Fi studentUniqueId
  studentNumber   TEXT,
  lastName        TEXT,
  firstName       TEXT,
  birthDate       TEXT,
  gender          TEXT
);

CREATE TABLE Enrollment (
  enrollmentID    INTEGER PRIMARY KEY,
  personID        INTEGER NOT NULL REFERENCES Person(personID),
  calendarID      INTEGER NOT NULL REFERENCES Calendar(calendarID),
  startDate       TEXT NOT NULL,
  endDate         TEXT,
  noShow          INTEGER NOT NULL DEFAULT 0,  -- No Show checkbox
  careerCluster   TEXT,                    -- State Reporting Fields > Career Cluster (used by state profiles)
  cteProgramType  TEXT                     -- State Reporting Fields > CTE Program Type (used by state profiles)
);

CREATE TABLE Program (                     -- Academic Program Setup
  programID       INTEGER PRIMARY KEY,     -- Academic Program ID
  districtID      INTEGER REFERENCES District(districtID),
  name            TEXT NOT NULL,
  code            TEXT,                    -- Program code: the Campus value mapped to careerPathwayDescriptor
  type            TEXT,                    -- Program Type ('CTE' for Career Tech programs)
  category        TEXT,
  stateCode       TEXT,                    -- State Code (CIP)
  active          INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE ProgramParticipation (        -- a student's Career Tech (CTE) program record
  participationID INTEGER PRIMARY KEY,     -- Program ID of the record
  personID        INTEGER NOT NULL REFERENCES Person(personID),
  programID       INTEGER NOT NULL REFERENCES Program(programID),
  startDate       TEXT,
  endDate         TEXT,
  studentStatus   TEXT,                    -- mapped -> cteProgramCompletionIndicator
  nonTraditional  INTEGER NOT NULL DEFAULT 0   -- Non-Traditional Participation checkbox
);

CREATE TABLE ProgramParticipationCertification (
  certificationID   INTEGER PRIMARY KEY,   -- Participation Certification ID
  participationID   INTEGER NOT NULL REFERENCES ProgramParticipation(participationID),
  name              TEXT,
  attempted         INTEGER NOT NULL DEFAULT 0,
  passed            INTEGER NOT NULL DEFAULT 0,
  certificationDate TEXT
);

-- The Ed-Fi connection: one row per district and school year configured to send.
CREATE TABLE EdFiConfiguration (
  configID        INTEGER PRIMARY KEY,
  districtID      INTEGER NOT NULL REFERENCES District(districtID),
  endYear         INTEGER NOT NULL,        -- the configured year
  profile         TEXT NOT NULL,           -- the profile name (a folder under profiles/)
  apiBase         TEXT,                    -- informational; the API URL is given to the sync command
  enabled         INTEGER NOT NULL DEFAULT 1
);

-- Per-resource on/off toggle of a connection. A missing row means on.
CREATE TABLE EdFiResourceToggle (
  configID        INTEGER NOT NULL REFERENCES EdFiConfiguration(configID),
  resource        TEXT NOT NULL,           -- e.g. 'studentCTEProgramAssociations'
  enabled         INTEGER NOT NULL,
  PRIMARY KEY (configID, resource)
);

-- Resource Preferences: Campus value -> Ed-Fi code, per connection, resource and element.
CREATE TABLE EdFiResourcePreference (
  configID        INTEGER NOT NULL REFERENCES EdFiConfiguration(configID),
  resource        TEXT NOT NULL,           -- 'programs', 'studentCTEProgramAssociations', ...
  element         TEXT NOT NULL,           -- 'programTypeDescriptor', 'careerPathwayDescriptor', ...
  campusValue     TEXT NOT NULL,
  edfiCode        TEXT NOT NULL,           -- a code value or a full descriptor URI
  PRIMARY KEY (configID, resource, element, campusValue)
);

CREATE INDEX idx_enrollment_person ON Enrollment(personID);
CREATE INDEX idx_participation_person ON ProgramParticipation(personID);
CREATE INDEX idx_certification_participation ON ProgramParticipationCertification(participationID);
CREATE INDEX idx_calendar_school ON Calendar(schoolID);
