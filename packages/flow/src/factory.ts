// A zero message per call without create()'s walk over the descriptor: the agent builds one
// flow.Flow (and its Endpoint, IP, Layer4, …) for every event, and create() showed up as the top
// of its profile (createZeroMessage + initMessage, then the GC). A factory clones a zero message
// made once by create() itself and gives each copy fresh mutable members (lists, maps, oneof
// holders), so its result is what create(schema) returns: same keys, same values, same types.
import { create, type DescMessage, type MessageShape } from '@bufbuild/protobuf';

export type MessageFactory<Desc extends DescMessage> = () => MessageShape<Desc>;

/**
 * A function returning a fresh zero message of `schema`, equal to create(schema). Only for
 * messages without explicit-presence defaults on a prototype chain (proto3 files, as flow.proto
 * and wirescope.proto are): for others it returns create() itself.
 */
export function messageFactory<Desc extends DescMessage>(schema: Desc): MessageFactory<Desc> {
  const zero = create(schema) as Record<string, unknown>;
  if (Object.getPrototypeOf(zero) !== Object.prototype) return () => create(schema);
  const lists: string[] = [];
  const maps: string[] = [];
  const oneofs: string[] = [];
  for (const member of schema.members) {
    if (member.kind === 'oneof') oneofs.push(member.localName);
    else if (member.fieldKind === 'list') lists.push(member.localName);
    else if (member.fieldKind === 'map') maps.push(member.localName);
  }
  // One generated object literal per schema: every message gets the same hidden class with all
  // its fields in place, which copying a template ({ ...template }) of Flow's ~40 keys did not
  // (that copy led the agent's profile once create() was gone).
  const constants: unknown[] = [];
  const members = Object.entries(zero).map(([key, value]) => {
    let source: string;
    if (lists.includes(key)) source = '[]';
    else if (maps.includes(key)) source = '{}';
    else if (oneofs.includes(key)) source = '{ case: undefined }';
    else if (value === undefined) source = 'undefined';
    else if (typeof value === 'bigint') source = `${value}n`;
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      source = JSON.stringify(value);
    else {
      // empty bytes (a zero-length Uint8Array cannot be written to: one is shared)
      constants.push(value);
      source = `c[${constants.length - 1}]`;
    }
    return `${JSON.stringify(key)}: ${source}`;
  });
  return new Function('c', `return () => ({ ${members.join(', ')} });`)(constants) as MessageFactory<Desc>;
}
