/**
 * How the concern modules beside command.ts (and src/run/methods.ts) give Command its
 * methods: each declares them on `interface Command` (declaration merging, with their
 * documentation) and adds their implementations here. They become what a class body would
 * make: own properties of Command.prototype, not enumerable, writable and configurable
 * (accessors keep their getter).
 */

/**
 * Adds `members` (methods and getters, by their property descriptors, symbol keys included)
 * to `proto`. `K` is inferred from the object literal, so every implementation is checked
 * against the signature declared on the interface.
 */
export function defineMethods<T extends object, K extends keyof T>(proto: T, members: Pick<T, K> & ThisType<T>): void {
  for (const key of Reflect.ownKeys(members)) {
    if (Object.hasOwn(proto, key)) throw new Error(`Command.prototype already has ${String(key)}`);
    const descriptor = Object.getOwnPropertyDescriptor(members, key)!;
    descriptor.enumerable = false;
    Object.defineProperty(proto, key, descriptor);
  }
}
