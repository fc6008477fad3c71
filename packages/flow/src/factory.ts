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
  const template = Object.freeze({ ...zero });
  return () => {
    const message: Record<string, unknown> = { ...template };
    for (const name of lists) message[name] = [];
    for (const name of maps) message[name] = {};
    for (const name of oneofs) message[name] = { case: undefined };
    return message as MessageShape<Desc>;
  };
}
