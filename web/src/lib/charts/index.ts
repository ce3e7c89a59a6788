/**
 * The chart components and LayerChart itself, in a chunk of their own: only the Usage tab and the
 * Usage page ask for it (through `loadCharts`), so no other page downloads a chart library.
 */
import "layerchart/daisyui-5.css";

export { default as BucketBars } from "./BucketBars.svelte";
export { default as ResourceArea } from "./ResourceArea.svelte";
