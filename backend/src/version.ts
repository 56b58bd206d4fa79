/** The version Prescaler reports (prescaler_build_info): package.json's, found from wherever the code runs. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The `version` of the nearest package.json named "prescaler" above `from`: the same file whether the
 * backend runs as TypeScript from backend/src or compiled elsewhere in the tree. "unknown" if none.
 */
export function prescalerVersion(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg?.name === 'prescaler' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here, or not JSON: look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}
