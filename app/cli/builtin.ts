// Node built-in modules the CLI needs only on some paths (spawning qemu-img),
// loaded when first used rather than at start: an `import` of node:child_process alone makes
// Node load and compile some 30 of its own modules (streams, net, dgram …) before any work starts.

import { createRequire } from 'node:module';

interface Builtins {
  'node:child_process': typeof import('node:child_process');
}

/** The built-in module `id` (process.getBuiltinModule where Node has it: 20.16 and later). */
export function nodeBuiltin<K extends keyof Builtins>(id: K): Builtins[K] {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return (get ? get.call(process, id) : createRequire('/')(id)) as Builtins[K];
}
