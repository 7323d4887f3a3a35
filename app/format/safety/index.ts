// The safety verdict for untrusted images: safe, unsafe (and why) or refused by QEMU.
export { assessSafety, foreignSafety, imageSafety, unreadableSafety, type SafetyInput } from './assess';
export { classifyBackingName, type BackingKind } from './backing';
export { findSignatures, FORMAT_LABELS, type Signature, type SignatureFormat } from './signatures';
export { SAFETY_LIMITS, verdictOf, type NoteCode, type Safety, type SafetyCode, type SafetyNote, type SafetyReason, type SafetyVerdict } from './types';
export { SAFETY_HEADLINE, safetyMarkdown, safetySummary } from './markdown';
