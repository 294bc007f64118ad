/** Where names past a cardinality cap are counted. Never a valid client-sent region or a path. */
export const OVERFLOW_NAME = '(other)';

export interface CardinalityLimits {
  /** distinct page names kept; later new names count as `(other)` */
  maxPageNames: number;
  /** distinct regions kept; later new regions count as `(other)` */
  maxRegions: number;
}

/**
 * The distinct values of one tag or column, capped: a crawler inventing URLs or a client
 * inventing regions fills the cap once, and everything new after it lands in `(other)`, so the
 * store, the rollups and the dashboard stay bounded whatever is sent.
 */
export class CappedNames {
  private readonly known = new Set<string>();

  constructor(private readonly max: number) {}

  /** Names already stored (loaded at start), whether or not they fit the current cap. */
  remember(name: string): void {
    this.known.add(name);
  }

  forget(name: string): void {
    this.known.delete(name);
  }

  /** The name to store for `name`; `isNew` when it was admitted just now. */
  admit(name: string): { name: string; isNew: boolean } {
    if (this.known.has(name)) return { name, isNew: false };
    if (this.known.size >= this.max) return { name: OVERFLOW_NAME, isNew: false };
    this.known.add(name);
    return { name, isNew: true };
  }
}
