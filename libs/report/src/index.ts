/**
 * @nbm/report: headless pictures of a run as PNG (pngjs only, with a built-in bitmap font):
 * image grids (samples, model components) and line plots (losses, sweeps); and self-contained HTML report
 * pages of a run directory and of a sweep directory (inline SVG plots, embedded pictures, no network); and TensorBoard
 * scalar event files.
 */
export { imageGrid, gridLayout, type GrayRange, type GridLayout, type ImageGridOptions } from './grid.ts';
export {
  samplesFigure,
  componentsFigure,
  COMPONENT_COLUMNS,
  type SamplesFigureOptions,
  type ComponentsFigureOptions,
} from './figures.ts';
export { linePlot, stackedPlots, PALETTE, type LinePlotOptions, type Series } from './plot.ts';
export { MAX_SIDE, type Rgb } from './raster.ts';
export { hasGlyph, textWidth } from './font.ts';
export { formatDuration } from './duration.ts';
export { writeRunReport } from './run-report.ts';
export { writeSweepReport } from './sweep-report.ts';
export { ScalarEventWriter, readScalarEvents, type ScalarEvent } from './tensorboard.ts';
