// The call core's error codes live with every other wire code in @parley/protocol.
import { CALL_ERROR_STATUS } from '@parley/protocol';

export { CALL_ERROR_STATUS };

export type CallErrorCode = keyof typeof CALL_ERROR_STATUS;

export interface CallError {
  code: CallErrorCode;
  message: string;
}

export interface Refusal {
  ok: false;
  error: CallError;
}

export function refuse(code: CallErrorCode, message: string): Refusal {
  return { ok: false, error: { code, message } };
}

export function isCallErrorCode(value: unknown): value is CallErrorCode {
  return typeof value === 'string' && Object.hasOwn(CALL_ERROR_STATUS, value);
}
