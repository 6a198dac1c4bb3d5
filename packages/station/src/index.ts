export { Station, openDatabase } from './station.js';
export { initDataDir, loadDataDir, type DataDir } from './config/data-dir.js';
export { addMember, listMembers, resetEnrollment } from './members/members.js';
export { createInvitation, acceptInvitation, readInvitation } from './lines/link-ceremony.js';
export { allLines, lineByName, setSeat } from './lines/line-store.js';
export { summarizeLine } from './lines/line-manager.js';
export { createLogger } from './logger.js';
export type { Db } from './db/open.js';
export { lineDutyStats } from './calls/call-desk.js';
