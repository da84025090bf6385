/**
 * Who is on call: reads the rotation's schedule (a secret reference, `env:NAME` or `file:PATH`) and
 * picks the shift covering a moment. The schedule is either a list of shifts
 * (`shifts: [{ engineer, contact, from, to }]`) or one line "Name <contact>" (what an on-call tool
 * exporting the current engineer writes). What the schedule lacks is an unresolved answer, never a throw.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { resolveSecret as defaultResolveSecret } from './secrets';
import type { OnCallAssignment, OnCallInput, OnCallPort } from './types';

const isoTime = z.string().refine((text) => !Number.isNaN(Date.parse(text)), { message: 'expected an ISO time such as 2026-11-30T09:00:00Z' });

const shiftSchema = z.strictObject({
  engineer: z.string().min(1),
  contact: z.string().min(1).optional(),
  from: isoTime,
  to: isoTime,
});

const scheduleSchema = z.strictObject({
  rotation: z.string().optional(),
  shifts: z.array(shiftSchema).min(1, { message: 'a schedule needs at least one shift' }),
});

/** "Jane Doe <jane@example.com>" or "Jane Doe". */
const ONE_LINE = /^([^<>\n]+?)\s*(?:<([^<>\n]+)>)?$/;

/** What the schedule text says about the moment `at` (pure: tests and the fake call it too). */
export function onCallFromSchedule(text: string, input: OnCallInput): OnCallAssignment {
  const source = input.schedule ?? 'the schedule';
  const unresolved = (reason: string): OnCallAssignment => ({ rotation: input.rotation, resolved: false, reason });
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    return unresolved(`${source} is not a readable schedule: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof document === 'string') {
    const line = ONE_LINE.exec(document.trim());
    if (!line) return unresolved(`${source} is not a schedule: expected "shifts:" or one line "Name <contact>"`);
    return { rotation: input.rotation, resolved: true, engineer: line[1]!.trim(), ...(line[2] ? { contact: line[2].trim() } : {}) };
  }
  const parsed = scheduleSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return unresolved(`${source} is not a schedule: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const at = Date.parse(input.at);
  const shift = parsed.data.shifts.find((s) => Date.parse(s.from) <= at && at < Date.parse(s.to));
  if (!shift) {
    const first = parsed.data.shifts.map((s) => s.from).sort()[0]!;
    const last = parsed.data.shifts.map((s) => s.to).sort().pop()!;
    return unresolved(`no shift in ${source} covers ${input.at} (its shifts run from ${first} to ${last})`);
  }
  return {
    rotation: input.rotation,
    resolved: true,
    engineer: shift.engineer,
    ...(shift.contact ? { contact: shift.contact } : {}),
    shift: { from: new Date(shift.from).toISOString(), to: new Date(shift.to).toISOString() },
  };
}

/** The sentence for a rotation without a schedule. */
export const NO_SCHEDULE = 'the spec names no onCall.schedule, so who is on call is not known';

/** The real resolver: reads the schedule where its reference points. */
export function createOnCallResolver(options: { resolveSecret?: (ref: string) => Promise<string> } = {}): OnCallPort {
  const resolveSecret = options.resolveSecret ?? defaultResolveSecret;
  return {
    async resolve(input: OnCallInput): Promise<OnCallAssignment> {
      if (!input.schedule) return { rotation: input.rotation, resolved: false, reason: NO_SCHEDULE };
      let text: string;
      try {
        text = await resolveSecret(input.schedule);
      } catch (err) {
        return { rotation: input.rotation, resolved: false, reason: (err as Error).message };
      }
      return onCallFromSchedule(text, input);
    },
  };
}
