// Students and everything hanging off them: person, enrollments (with the Career Cluster and CTE Program Type state reporting fields),
// CTE program records and certifications. Each student is built whole, in a fixed draw order, so every
// random choice about a student sits next to the rows it shapes.
import { FIRST_NAMES, LAST_NAMES, STUDENT_STATUSES } from './generate-catalog.js';
import type { CalendarInfo, DistrictInfo, Org, ProgramInfo, SchoolInfo } from './generate-org.js';
import { addDays, daysBetween, isoDate } from './iso-date.js';
import type { Prng } from './prng.js';
import type { Row, SqlValue } from './rows.js';

export interface StudentRows {
  Person: Row[];
  Enrollment: Row[];
  ProgramParticipation: Row[];
  ProgramParticipationCertification: Row[];
}

interface Ids {
  person: number;
  enrollment: number;
  participation: number;
  certification: number;
}

/** A student's year in a high school: the calendar they were (mainly) enrolled in. */
interface StudentYear {
  year: number;
  calendar: CalendarInfo;
}

interface Ctx {
  rng: Prng;
  org: Org;
  currentYear: number;
  ids: Ids;
  usedStateIDs: Set<string>;
  out: StudentRows;
}

export function buildStudents(rng: Prng, org: Org, students: number): StudentRows {
  const out: StudentRows = { Person: [], Enrollment: [], ProgramParticipation: [], ProgramParticipationCertification: [] };
  const ctx: Ctx = {
    rng, org, out,
    currentYear: org.years[org.years.length - 1] as number,
    ids: { person: 10001, enrollment: 500001, participation: 70001, certification: 900001 },
    usedStateIDs: new Set(),
  };
  const districtWeights = org.districts.map((d) => [d, d.seed.share] as const);
  for (let i = 0; i < students; i++) buildStudent(ctx, rng.weighted(districtWeights), i);
  return out;
}

function buildStudent(ctx: Ctx, district: DistrictInfo, index: number): void {
  const { rng, org } = ctx;
  const personID = ctx.ids.person++;
  // Grade in the newest year; 13 means graduated the year before, so only older enrollments exist.
  const gradeNow = rng.weighted([[9, 24], [10, 24], [11, 24], [12, 23], [13, 5]] as const);
  ctx.out.Person.push(personRow(ctx, personID, index, gradeNow));

  const isCte = rng.chance(0.4);
  const programs = isCte ? choosePrograms(rng, district) : [];
  const years = org.years.filter((y) => {
    const grade = gradeNow - (ctx.currentYear - y);
    return grade >= 9 && grade <= 12;
  });

  // The year (index into `years`) of the first CTE record; later records follow in later years.
  const cteFrom = rng.int(0, Math.max(0, years.length - 1));
  let school = rng.weighted(district.schools.map((s) => [s, s.weight] as const));
  const studentYears: StudentYear[] = [];
  for (const [i, year] of years.entries()) {
    if (rng.chance(0.05)) school = rng.pick(district.schools);
    const home = rng.chance(0.03) ? district.excludedSchool : school;
    const calendar = home.calendars.get(year) as CalendarInfo;
    const program = isCte && i >= cteFrom ? programs[Math.min(i - cteFrom, programs.length - 1)] : undefined;
    const withdrew = enrollYear(ctx, personID, district, home, calendar, stateReportingFields(rng, program));
    studentYears.push({ year, calendar });
    if (rng.chance(0.03)) {
      const cr = district.excludedCalendars.get(year) as CalendarInfo;
      const start = addDays(cr.first, rng.int(30, 120));
      pushEnrollment(ctx, personID, cr.calendarID, start, endOrOpen(ctx, year, cr.last, 0.8), 0, { careerCluster: null, cteProgramType: null });
    }
    if (withdrew && rng.chance(0.5)) break;
  }

  if (isCte) {
    const anchors = studentYears.length > 0 ? studentYears : [{ year: ctx.currentYear, calendar: genericCalendar(ctx.currentYear) }];
    programs.forEach((program, j) => {
      const anchor = anchors[Math.min(cteFrom + j, anchors.length - 1)] as StudentYear;
      addParticipation(ctx, personID, program, anchor, anchors);
    });
  }
  if (rng.chance(0.06) && studentYears.length > 0) {
    const sy = rng.pick(studentYears);
    pushParticipation(ctx, personID, rng.pick(district.otherProgramIDs), sy.calendar.first, endOrOpen(ctx, sy.year, sy.calendar.last, 0.5), null, 0);
  }
}

function personRow(ctx: Ctx, personID: number, index: number, gradeNow: number): Row {
  const { rng } = ctx;
  const birthYear = ctx.currentYear - 5 - gradeNow;
  return {
    personID,
    stateID: rng.chance(0.01) ? null : uniqueStateID(ctx),
    studentNumber: String(200000 + index),
    lastName: rng.pick(LAST_NAMES),
    firstName: rng.pick(FIRST_NAMES),
    birthDate: addDays(isoDate(birthYear - 1, 9, 1), rng.int(0, 364)),
    gender: rng.weighted([['F', 49], ['M', 49], ['X', 2]] as const),
  };
}

function uniqueStateID(ctx: Ctx): string {
  for (;;) {
    const id = String(ctx.rng.int(1, 9)) + ctx.rng.digits(9);
    if (!ctx.usedStateIDs.has(id)) {
      ctx.usedStateIDs.add(id);
      return id;
    }
  }
}

/** 1-3 CTE program records: the first in the student's main program, later ones often continue it. */
function choosePrograms(rng: Prng, district: DistrictInfo): ProgramInfo[] {
  const weights = district.ctePrograms.map((p) => [p, p.seed.weight] as const);
  const main = rng.weighted(weights);
  const count = rng.weighted([[1, 60], [2, 28], [3, 12]] as const);
  const programs = [main];
  for (let j = 1; j < count; j++) programs.push(rng.chance(0.5) ? main : rng.weighted(weights));
  return programs;
}

interface StateReportingFields {
  careerCluster: string | null;
  cteProgramType: string | null;
}

/** Career Cluster and CTE Program Type state reporting fields: set for CTE students (about 5% left blank), rarely for others. */
function stateReportingFields(rng: Prng, program: ProgramInfo | undefined): StateReportingFields {
  const blank = (): string | null => (rng.chance(0.7) ? null : '');
  if (!program) {
    if (!rng.chance(0.03)) return { careerCluster: null, cteProgramType: null };
    return { careerCluster: rng.pick(['1', '4', '8', '11', '14']), cteProgramType: rng.pick(['Business', 'Agriculture', 'Health Sciences']) };
  }
  const r = rng.next();
  return {
    careerCluster: r < 0.03 ? blank() : program.seed.cluster,
    cteProgramType: r >= 0.02 && r < 0.05 ? blank() : program.seed.reportedProgramType,
  };
}

/** Enrolls the student for one year; returns whether they withdrew before the year ended. */
function enrollYear(ctx: Ctx, personID: number, district: DistrictInfo, school: SchoolInfo, calendar: CalendarInfo, reporting: StateReportingFields): boolean {
  const { rng } = ctx;
  const year = calendar.endYear;
  const r = rng.next();
  if (r < 0.02) {
    pushEnrollment(ctx, personID, calendar.calendarID, calendar.first, calendar.first, 1, reporting);
    return false;
  }
  if (r < 0.06 && district.schools.length > 1) {
    const other = rng.pick(district.schools.filter((s) => s !== school));
    const otherCal = other.calendars.get(year) as CalendarInfo;
    const leave = addDays(calendar.first, rng.int(40, 160));
    pushEnrollment(ctx, personID, calendar.calendarID, calendar.first, leave, 0, reporting);
    pushEnrollment(ctx, personID, otherCal.calendarID, addDays(leave, rng.int(1, 7)), endOrOpen(ctx, year, otherCal.last, 0.85), 0, reporting);
    return false;
  }
  if (r < 0.1) {
    pushEnrollment(ctx, personID, calendar.calendarID, addDays(calendar.first, rng.int(15, 120)), endOrOpen(ctx, year, calendar.last, 0.85), 0, reporting);
    return false;
  }
  if (r < 0.13) {
    const span = Math.max(1, daysBetween(calendar.first, calendar.last) - 10);
    pushEnrollment(ctx, personID, calendar.calendarID, calendar.first, addDays(calendar.first, rng.int(20, span)), 0, reporting);
    return true;
  }
  pushEnrollment(ctx, personID, calendar.calendarID, calendar.first, endOrOpen(ctx, year, calendar.last, 0.85), 0, reporting);
  return false;
}

/** In the current year most records are still open (no end date yet); older years are closed. */
function endOrOpen(ctx: Ctx, year: number, last: string, openShare: number): string | null {
  return year === ctx.currentYear && ctx.rng.chance(openShare) ? null : last;
}

function pushEnrollment(ctx: Ctx, personID: number, calendarID: number, startDate: string, endDate: string | null, noShow: number, reporting: StateReportingFields): void {
  ctx.out.Enrollment.push({
    enrollmentID: ctx.ids.enrollment++, personID, calendarID, startDate, endDate, noShow,
    careerCluster: reporting.careerCluster, cteProgramType: reporting.cteProgramType,
  });
}

function genericCalendar(year: number): CalendarInfo {
  return { calendarID: 0, endYear: year, first: isoDate(year - 1, 8, 20), last: isoDate(year, 5, 22) };
}

function addParticipation(ctx: Ctx, personID: number, program: ProgramInfo, anchor: StudentYear, all: readonly StudentYear[]): void {
  const { rng } = ctx;
  const { calendar, year } = anchor;
  const kind = rng.weighted([['year', 62], ['multi', 24], ['partial', 14]] as const);
  let start: string | null;
  let end: string | null;
  if (kind === 'year') {
    start = addDays(calendar.first, rng.chance(0.7) ? rng.int(0, 3) : rng.int(4, 40));
    end = endOrOpen(ctx, year, calendar.last, 0.4);
  } else if (kind === 'multi') {
    // Spans this school year and the next, as CTE records that follow a two-year course sequence do.
    start = addDays(calendar.first, rng.int(0, 5));
    const next = all.find((sy) => sy.year === year + 1)?.calendar ?? genericCalendar(year + 1);
    end = year + 1 > ctx.currentYear || rng.chance(0.1) ? null : next.last;
  } else {
    start = addDays(calendar.first, rng.int(30, 150));
    end = addDays(start, rng.int(30, 120));
  }
  if (end !== null && rng.chance(0.04)) end = null;
  if (rng.chance(0.03)) start = null;
  // A handful of records are entered with the end before the start, as happens in real data entry.
  if (start !== null && end !== null && rng.chance(0.005)) end = addDays(start, -rng.int(1, 30));
  const status = rng.weighted(STUDENT_STATUSES);
  const participationID = pushParticipation(ctx, personID, program.programID, start, end, status, rng.chance(0.1) ? 1 : 0);
  addCertifications(ctx, participationID, program, start ?? calendar.first, end ?? calendar.last);
}

function pushParticipation(ctx: Ctx, personID: number, programID: number, startDate: string | null, endDate: string | null, studentStatus: string | null, nonTraditional: number): number {
  const participationID = ctx.ids.participation++;
  ctx.out.ProgramParticipation.push({ participationID, personID, programID, startDate, endDate, studentStatus, nonTraditional });
  return participationID;
}

function addCertifications(ctx: Ctx, participationID: number, program: ProgramInfo, from: string, to: string): void {
  const { rng } = ctx;
  const count = rng.weighted([[0, 55], [1, 30], [2, 10], [3, 5]] as const);
  const names = program.seed.certifications.length > 0 ? program.seed.certifications : ['OSHA 10-Hour General Industry'];
  const span = Math.max(0, daysBetween(from, to));
  for (let k = 0; k < count; k++) {
    const [attempted, passed, dated] = rng.weighted([
      [[1, 1, true], 50], [[1, 0, true], 20], [[0, 0, false], 15], [[1, 1, false], 7], [[1, 0, false], 5], [[0, 1, true], 3],
    ] as const);
    const date: SqlValue = dated ? addDays(from, rng.int(0, span)) : null;
    ctx.out.ProgramParticipationCertification.push({
      certificationID: ctx.ids.certification++, participationID, name: rng.pick(names), attempted, passed, certificationDate: date,
    });
  }
}
