import type { Role } from '@parley/protocol';

export const ROLE_LABEL: Record<Role, string> = {
  principal: 'Principal',
  deputy: 'Deputy',
  duty_officer: 'Duty officer',
  interpreter: 'Interpreter',
  press_officer: 'Press officer',
  admin: 'Administrator',
};
