/** How many real fixtures stand behind a rule, counted when the rule index is generated. */
export interface FixtureCounts {
  total: number;
  /** Fixtures by the cause their source gives. */
  causes: Readonly<Record<string, number>>;
  /** Layers the rule's own product answered from, in its fixtures. */
  productLayers: readonly string[];
}
