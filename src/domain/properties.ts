/** What the user properties of both products share (docs/behaviour.md §2, §5, §6). */

/**
 * A property as read from the store, its value still the compact JSON text
 * that was stored. The property GET embeds that text in its answer as it is
 * (http/confluence/user-properties.ts): parsing it only to serialize it again
 * gives the same bytes at a cost, on the hottest route. Anything else that
 * needs the value parses `valueJson`.
 */
export interface PropertyWithJsonValue {
  id: string;
  key: string;
  /** Compact JSON text, exactly as stored (written by JSON.stringify). */
  valueJson: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}
