// Reference lists the generator draws from. Codes and names are plausible Campus setups: CIP codes from
// the federal CIP 2020 list, career pathways from the Ed-Fi CareerPathwayDescriptor, clusters from
// A state's CTE Program Service codes as its descriptor table lists them (1-16, skipping 13).

export interface DistrictSeed {
  name: string;
  /** State District Number: 7 digits, leading zeros kept, used as the Ed-Fi educationOrganizationId. */
  number: string;
  /** Share of the generated students. */
  share: number;
  /** Town names for high schools. */
  towns: readonly string[];
}

export const DISTRICTS: readonly DistrictSeed[] = [
  { name: 'Cedar Valley Community School District', number: '4826100', share: 0.5,
    towns: ['Cedar Valley', 'North Ridge', 'Lakeview', 'Mill Creek', 'Pioneer', 'Westfield', 'Eastgate', 'Summit'] },
  { name: 'Osage River R-II School District', number: '0480101', share: 0.3,
    towns: ['Osage River', 'Bluff Springs', 'Linn Creek', 'Warsaw', 'Hermitage', 'Climax Springs'] },
  { name: 'Prairie Ridge Unified School District', number: '1150025', share: 0.2,
    towns: ['Prairie Ridge', 'Antelope Flats', 'Red Rock', 'Sandhill', 'Willow Bend'] },
];

export interface CteProgramSeed {
  code: string;
  name: string;
  category: string;
  /** CIP code, reported as cipCode and kept in Program.stateCode. */
  cip: string;
  /** Ed-Fi CareerPathwayDescriptor code value the district maps this program to. */
  pathway: string;
  /** Career Cluster state reporting value (a CTE Program Service code). */
  cluster: string;
  /** CTE Program Type state reporting value. */
  reportedProgramType: string;
  /** Industry certifications students in the program sit. */
  certifications: readonly string[];
  /** Relative popularity. */
  weight: number;
}

export const CTE_PROGRAMS: readonly CteProgramSeed[] = [
  { code: 'AGBUS', name: 'Agribusiness Systems', category: 'Agriculture', cip: '01.0101', pathway: 'Agriculture, Food and Natural Resources', cluster: '1', reportedProgramType: 'Agriculture', certifications: ['Elanco Veterinary Medical Applications', 'AgriBusiness Fundamentals'], weight: 6 },
  { code: 'HORT', name: 'Horticulture', category: 'Agriculture', cip: '01.0601', pathway: 'Agriculture, Food and Natural Resources', cluster: '1', reportedProgramType: 'Agriculture', certifications: ['Certified Landscape Technician'], weight: 3 },
  { code: 'CONST', name: 'Construction Trades', category: 'Skilled Trades', cip: '46.0000', pathway: 'Architecture and Construction', cluster: '2', reportedProgramType: 'Skilled Technical Sciences', certifications: ['OSHA 10-Hour Construction', 'NCCER Core'], weight: 5 },
  { code: 'DMEDIA', name: 'Digital Media Production', category: 'Arts and Communication', cip: '10.0304', pathway: 'Arts, A/V Technology and Communications', cluster: '3', reportedProgramType: 'Skilled Technical Sciences', certifications: ['Adobe Certified Professional'], weight: 4 },
  { code: 'BUSMGT', name: 'Business Management', category: 'Business', cip: '52.0201', pathway: 'Business, Management and Administration', cluster: '4', reportedProgramType: 'Business', certifications: ['Microsoft Office Specialist', 'Entrepreneurship and Small Business'], weight: 7 },
  { code: 'TEACH', name: 'Teaching Professions', category: 'Education', cip: '13.1210', pathway: 'Education and Training', cluster: '5', reportedProgramType: 'Family & Consumer Sciences', certifications: ['Educators Rising Certificate'], weight: 3 },
  { code: 'FIN', name: 'Personal and Business Finance', category: 'Business', cip: '52.0801', pathway: 'Finance', cluster: '6', reportedProgramType: 'Business', certifications: ['W!SE Financial Literacy'], weight: 3 },
  { code: 'PUBAD', name: 'Public Service and Administration', category: 'Government', cip: '44.0401', pathway: 'Government and Public Administration', cluster: '7', reportedProgramType: 'Business', certifications: [], weight: 1 },
  { code: 'NURSA', name: 'Certified Nursing Assistant', category: 'Health Sciences', cip: '51.3902', pathway: 'Health Science', cluster: '8', reportedProgramType: 'Health Sciences', certifications: ['Certified Nursing Assistant', 'CPR/First Aid'], weight: 7 },
  { code: 'EMT', name: 'Emergency Medical Technician', category: 'Health Sciences', cip: '51.0904', pathway: 'Health Science', cluster: '8', reportedProgramType: 'Health Sciences', certifications: ['EMT-Basic', 'CPR/First Aid'], weight: 3 },
  { code: 'CULIN', name: 'Culinary Arts', category: 'Family and Consumer Sciences', cip: '12.0500', pathway: 'Hospitality and Tourism', cluster: '9', reportedProgramType: 'Family & Consumer Sciences', certifications: ['ServSafe Food Handler', 'ProStart National Certificate'], weight: 6 },
  { code: 'CHILD', name: 'Child Development', category: 'Family and Consumer Sciences', cip: '19.0706', pathway: 'Human Services', cluster: '10', reportedProgramType: 'Family & Consumer Sciences', certifications: ['Child Development Associate'], weight: 3 },
  { code: 'PROG', name: 'Computer Programming', category: 'Information Technology', cip: '11.0201', pathway: 'Information Technology', cluster: '11', reportedProgramType: 'Technology & Engineering', certifications: ['CompTIA IT Fundamentals+', 'Python Institute PCEP'], weight: 6 },
  { code: 'NETW', name: 'Computer Networking', category: 'Information Technology', cip: '11.0901', pathway: 'Information Technology', cluster: '11', reportedProgramType: 'Technology & Engineering', certifications: ['CompTIA A+', 'Cisco CCST Networking'], weight: 3 },
  { code: 'CRIMJ', name: 'Law Enforcement Services', category: 'Public Safety', cip: '43.0107', pathway: 'Law, Public Safety, Corrections and Security', cluster: '12', reportedProgramType: 'Skilled Technical Sciences', certifications: ['Telecommunicator CPR'], weight: 3 },
  { code: 'WELD', name: 'Welding Technology', category: 'Skilled Trades', cip: '48.0508', pathway: 'Manufacturing', cluster: '15', reportedProgramType: 'Skilled Technical Sciences', certifications: ['AWS D1.1 Structural Welding', 'OSHA 10-Hour General Industry'], weight: 5 },
  { code: 'MKTG', name: 'Marketing and Sales', category: 'Marketing', cip: '52.1401', pathway: 'Marketing, Sales and Service', cluster: '14', reportedProgramType: 'Marketing', certifications: ['NRF Customer Service and Sales'], weight: 5 },
  { code: 'ENGR', name: 'Pre-Engineering', category: 'STEM', cip: '15.0000', pathway: 'Science, Technology, Engineering and Mathematics', cluster: '15', reportedProgramType: 'Technology & Engineering', certifications: ['Autodesk Certified User'], weight: 5 },
  { code: 'AUTO', name: 'Automotive Technology', category: 'Skilled Trades', cip: '47.0604', pathway: 'Transportation, Distribution and Logistics', cluster: '16', reportedProgramType: 'Skilled Technical Sciences', certifications: ['ASE Entry-Level Automobile', 'S/P2 Safety'], weight: 5 },
];

/** Programs that are not Career Tech; their participations must never report. */
export const OTHER_PROGRAMS: readonly { code: string; name: string; type: string; category: string; edfiProgramType: string | null }[] = [
  { code: 'GT', name: 'Gifted and Talented', type: 'Gifted', category: 'Enrichment', edfiProgramType: 'Gifted and Talented' },
  { code: 'ELL', name: 'English Learner Services', type: 'ELL', category: 'Language', edfiProgramType: 'English as a Second Language (ESL)' },
  { code: 'APLUS', name: 'A+ Scholarship Program', type: 'A+', category: 'Postsecondary', edfiProgramType: null },
];

export const FIRST_NAMES: readonly string[] = [
  'Aaliyah', 'Aiden', 'Amara', 'Andre', 'Ava', 'Benjamin', 'Brooklyn', 'Caleb', 'Camila', 'Carter', 'Chloe', 'Daniel',
  'Diego', 'Elena', 'Elijah', 'Emma', 'Ethan', 'Evelyn', 'Gabriel', 'Grace', 'Hana', 'Isaac', 'Isabella', 'Jackson',
  'Jada', 'Jayden', 'Jasmine', 'Kai', 'Kayla', 'Liam', 'Lucas', 'Luna', 'Madison', 'Malik', 'Maria', 'Mason', 'Maya',
  'Mia', 'Noah', 'Nora', 'Oliver', 'Olivia', 'Omar', 'Priya', 'Ryan', 'Samuel', 'Sofia', 'Tyler', 'Wyatt', 'Zoe',
];

export const LAST_NAMES: readonly string[] = [
  'Adams', 'Alvarez', 'Anderson', 'Baker', 'Bennett', 'Brooks', 'Brown', 'Campbell', 'Carter', 'Chen', 'Clark', 'Collins',
  'Davis', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Gonzalez', 'Green', 'Hall', 'Harris', 'Hernandez', 'Hill', 'Jackson',
  'Johnson', 'Kim', 'King', 'Lee', 'Lewis', 'Lopez', 'Martin', 'Martinez', 'Miller', 'Mitchell', 'Moore', 'Nguyen',
  'Nelson', 'Patel', 'Perez', 'Phillips', 'Ramirez', 'Roberts', 'Robinson', 'Sanchez', 'Scott', 'Smith', 'Taylor',
  'Thomas', 'Thompson', 'Torres', 'Walker', 'White', 'Williams', 'Wilson', 'Wright', 'Young',
];

/** Campus student statuses with relative weights; null is "not entered". */
export const STUDENT_STATUSES: readonly (readonly [string | null, number])[] = [
  ['Participant', 40], ['Concentrator', 28], ['Completer', 16], ['Exited', 8], [null, 6], ['', 2],
];
