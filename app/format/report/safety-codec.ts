// The safety verdict in a saved analysis (saved-analysis.ts): the field `safety`, optional so
// documents written before it existed still load. Decoded like every other field: bounded texts,
// known codes only, and a verdict that must follow from its reasons.

import { NOTE_CODES, REFUSED_CODES, UNSAFE_CODES, verdictOf, type Safety, type SafetyNote, type SafetyReason } from '../safety/types';
import { arr, checked, obj, oneOf, opt, str, wide, type Codec } from './codec';

const TEXT = 65_536;
/** Reasons and notes kept at most (a verdict lists a few; refusals are capped at 20 distinct ones). */
const MAX_ITEMS = 256;

const reason = obj<SafetyReason>({
  code: oneOf(...UNSAFE_CODES, ...REFUSED_CODES),
  kind: oneOf('unsafe', 'refused'),
  message: str(TEXT),
  consequence: str(TEXT),
  remedy: str(TEXT),
  offset: opt(wide),
  name: opt(str(TEXT)),
  formats: opt(arr(str(64), 32)),
  count: opt(wide),
});
const note = obj<SafetyNote>({ code: oneOf(...NOTE_CODES), message: str(TEXT) });

export const safetyCodec: Codec<Safety> = checked(
  obj<Safety>({ verdict: oneOf('safe', 'unsafe', 'refused'), reasons: arr(reason, MAX_ITEMS), notes: arr(note, MAX_ITEMS) }),
  (s) => (verdictOf(s.reasons) === s.verdict ? null : `verdict ${s.verdict}, but the reasons make it ${verdictOf(s.reasons)}`),
);
