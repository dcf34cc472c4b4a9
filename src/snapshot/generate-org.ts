// Districts, schools, school years, calendars and program setup: the fixed frame students are placed in.
import { CTE_PROGRAMS, DISTRICTS, OTHER_PROGRAMS } from './generate-catalog.js';
import type { CteProgramSeed, DistrictSeed } from './generate-catalog.js';
import { isoDate } from './iso-date.js';
import type { Prng } from './prng.js';
import type { Row } from './rows.js';

export interface CalendarInfo {
  calendarID: number;
  endYear: number;
  /** First and last instructional day; enrollments and programs are dated from these. */
  first: string;
  last: string;
}

export interface SchoolInfo {
  schoolID: number;
  weight: number;
  calendars: Map<number, CalendarInfo>;
}

export interface ProgramInfo {
  programID: number;
  seed: CteProgramSeed;
}

export interface DistrictInfo {
  districtID: number;
  seed: DistrictSeed;
  schools: SchoolInfo[];
  /** The district's School Exclude school (an alternative centre). */
  excludedSchool: SchoolInfo;
  /** Per year, a Calendar Exclude calendar (credit recovery) at the first high school. */
  excludedCalendars: Map<number, CalendarInfo>;
  ctePrograms: ProgramInfo[];
  otherProgramIDs: number[];
}

export interface Org {
  districts: DistrictInfo[];
  /** Every school year with calendars, oldest first: the year before the first configured one, then the configured years. */
  years: number[];
  rows: { District: Row[]; School: Row[]; SchoolYear: Row[]; Calendar: Row[]; Program: Row[] };
}

/**
 * The districts to generate: the catalogue's, and more when more profiles than that take districts in turn, so
 * that every profile of the project gets connections (a new state would otherwise get none, silently). Extra
 * districts repeat the catalogue's towns under new State District Numbers; shares are scaled to sum to 1.
 */
export function districtSeeds(count: number): DistrictSeed[] {
  const seeds: DistrictSeed[] = [];
  for (let i = 0; i < Math.max(count, DISTRICTS.length); i++) {
    const base = DISTRICTS[i % DISTRICTS.length] as DistrictSeed;
    const round = Math.floor(i / DISTRICTS.length);
    seeds.push(round === 0 ? base : {
      ...base,
      name: `${base.name} ${round + 1}`,
      number: String((Number(base.number) + round * 1000) % 10_000_000).padStart(7, '0'),
    });
  }
  const total = seeds.reduce((sum, d) => sum + d.share, 0);
  return seeds.map((d) => ({ ...d, share: d.share / total }));
}

export function buildOrg(rng: Prng, students: number, endYears: readonly number[], districtCount: number = DISTRICTS.length): Org {
  const years = [(endYears[0] as number) - 1, ...endYears];
  const rows: Org['rows'] = { District: [], School: [], SchoolYear: [], Calendar: [], Program: [] };
  rows.SchoolYear = schoolYearRows(years);

  let schoolID = 11;
  let calendarID = 101;
  let programID = 301;

  const addCalendars = (school: SchoolInfo, label: string, exclude: boolean, short: boolean): Map<number, CalendarInfo> => {
    const calendars = new Map<number, CalendarInfo>();
    for (const year of years) {
      const first = short ? isoDate(year - 1, 9, rng.int(1, 10)) : isoDate(year - 1, 8, rng.int(14, 24));
      const last = short ? isoDate(year, 4, rng.int(20, 30)) : isoDate(year, 5, rng.int(15, 29));
      const cal: CalendarInfo = { calendarID: calendarID++, endYear: year, first, last };
      calendars.set(year, cal);
      rows.Calendar.push({
        calendarID: cal.calendarID, schoolID: school.schoolID, endYear: year,
        name: `${year - 1}-${String(year % 100).padStart(2, '0')} ${label}`, exclude: exclude ? 1 : 0,
      });
    }
    return calendars;
  };

  const districts = districtSeeds(districtCount).map((seed, index): DistrictInfo => {
    const districtID = index + 1;
    rows.District.push({ districtID, name: seed.name, number: seed.number });

    const expected = students * seed.share;
    const highSchools = Math.min(40, Math.max(2, Math.ceil(expected / 800)));
    const schools: SchoolInfo[] = [];
    for (let s = 0; s < highSchools; s++) {
      const school: SchoolInfo = { schoolID: schoolID++, weight: rng.int(2, 6), calendars: new Map() };
      const name = highSchoolName(seed.towns, s);
      rows.School.push({ schoolID: school.schoolID, districtID, name, number: schoolNumber(index, s), exclude: 0 });
      school.calendars = addCalendars(school, name, false, false);
      schools.push(school);
    }
    const excludedSchool: SchoolInfo = { schoolID: schoolID++, weight: 1, calendars: new Map() };
    const altName = `${seed.towns[0]} Alternative Learning Center`;
    rows.School.push({ schoolID: excludedSchool.schoolID, districtID, name: altName, number: schoolNumber(index, 90), exclude: 1 });
    excludedSchool.calendars = addCalendars(excludedSchool, altName, false, false);
    const excludedCalendars = addCalendars(schools[0] as SchoolInfo, `${seed.towns[0]} Credit Recovery`, true, true);

    // Districts offer different subsets of the catalogue; one extra program is set up but retired.
    const offered = rng.sample(CTE_PROGRAMS, rng.int(12, 16));
    const ctePrograms = CTE_PROGRAMS.filter((p) => offered.includes(p)).map((p) => ({ programID: programID++, seed: p }));
    for (const p of ctePrograms) rows.Program.push(cteProgramRow(p, districtID, 1));
    const retired = CTE_PROGRAMS.find((p) => !offered.includes(p));
    if (retired) rows.Program.push(cteProgramRow({ programID: programID++, seed: retired }, districtID, 0));
    const otherProgramIDs: number[] = [];
    for (const p of OTHER_PROGRAMS) {
      otherProgramIDs.push(programID);
      rows.Program.push({
        programID: programID++, districtID, name: p.name, code: p.code, type: p.type, category: p.category,
        stateCode: null, active: 1,
      });
    }
    return { districtID, seed, schools, excludedSchool, excludedCalendars, ctePrograms, otherProgramIDs };
  });

  return { districts, years, rows };
}

/** The oldest year has no dates at all, the first configured year no end date: both exercise the spec's NULL defaults. */
function schoolYearRows(years: readonly number[]): Row[] {
  return years.map((year, i) => ({
    endYear: year,
    label: `${year - 1}-${String(year % 100).padStart(2, '0')}`,
    startDate: i === 0 ? null : isoDate(year - 1, 8, 1),
    endDate: i <= 1 ? null : isoDate(year, 7, 31),
  }));
}

const QUARTERS = ['North', 'South', 'East', 'West', 'Central', 'Heights', 'Valley'];

/** Towns first; large districts then get "North", "South", ... schools in the same towns. */
function highSchoolName(towns: readonly string[], index: number): string {
  const town = towns[index % towns.length] as string;
  const round = Math.floor(index / towns.length);
  return round === 0 ? `${town} High School` : `${town} ${QUARTERS[(round - 1) % QUARTERS.length] as string} High School`;
}

function schoolNumber(districtIndex: number, schoolIndex: number): string {
  return String(1000 + districtIndex * 1000 + schoolIndex * 10 + 50).padStart(4, '0');
}

function cteProgramRow(p: ProgramInfo, districtID: number, active: number): Row {
  return {
    programID: p.programID, districtID, name: p.seed.name, code: p.seed.code, type: 'CTE', category: p.seed.category,
    stateCode: p.seed.cip, active,
  };
}
