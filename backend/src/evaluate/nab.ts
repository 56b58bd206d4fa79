/**
 * The Numenta Anomaly Benchmark scoring method (Lavin & Ahmad 2015; numenta/NAB `nab/sweeper.py`,
 * `nab/optimizer.py`, `nab/runner.py` normalisation), reimplemented from its published description.
 *
 * - Every row after the probationary period (first 15 % of a file, at most 750 rows) is scorable. Rows
 *   are taken in file order and counted by position, as NAB does (its files have repeated timestamps).
 * - A detection inside a labelled window earns the scaled sigmoid of its position in the window, divided
 *   by its value at the window's first row so the earliest detection earns exactly `tpWeight`; only the
 *   first (best) detection of a window counts. A window with no detection costs `fnWeight`.
 * - A detection outside every window costs `fpWeight` times the scaled sigmoid of its distance past the
 *   preceding window (in window widths), or the full `fpWeight` when no window precedes it.
 * - The threshold that turns scores into detections is swept over every distinct score of the whole corpus
 *   (all files together) and the best corpus score kept, per detector and profile.
 * - Normalised score = 100 · (raw − null) / (perfect − null), where null is the null detector's best raw
 *   score (a constant score) on the same files and perfect = number of windows · `tpWeight`.
 *
 * Beside NAB's swept score, a held-out one: each file scored at the threshold swept on the files outside
 * its category (scoreCorpus), or outside itself (heldOutScore), so no file's labels pick its threshold.
 * The labels are laid out once per corpus and each detector's rows sorted once; a sweep is then one pass.
 *
 * The scoring rules and the sweep are in nab-sweep.ts, the normalised corpus scores (swept, held out, per
 * category and per file) in nab-corpus-score.ts; this module re-exports both, so importers use './nab'.
 */
export * from './nab-sweep';
export * from './nab-corpus-score';
