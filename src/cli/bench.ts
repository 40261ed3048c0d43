import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { ArmatureError } from '../errors.ts';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('run every benchmark and print (or write) entries {name, value, unit, ...}')
    .option('--json <file>', 'write the entries as one JSON array to this file')
    .option('--only <prefixes>', 'comma-separated suite names to run (default: all)')
    .action(async (o: { json?: string; only?: string }) => {
      const { BENCH_SUITES } = await import('../bench/registry.ts');
      const only = o.only?.split(',').map((s) => s.trim());
      const suites = BENCH_SUITES.filter((s) => !only || only.includes(s.name));
      if (suites.length === 0) throw new ArmatureError('bench.none', `no suite matches --only ${o.only}; suites: ${BENCH_SUITES.map((s) => s.name).join(', ')}`);
      const entries: object[] = [];
      const failures: string[] = [];
      for (const suite of suites) {
        const t0 = performance.now();
        process.stderr.write(`bench: ${suite.name} ...\n`);
        try {
          const got = await suite.run();
          for (const e of got) {
            entries.push(e);
            process.stderr.write(`  ${e.name} = ${Number.isInteger(e.value) ? e.value : e.value.toPrecision(4)} ${e.unit}\n`);
          }
        } catch (e) {
          failures.push(`${suite.name}: ${(e as Error).stack ?? String(e)}`);
          process.stderr.write(`  FAILED: ${(e as Error).message}\n`);
        }
        process.stderr.write(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
      if (o.json) writeFileSync(o.json, JSON.stringify(entries, null, 2) + '\n');
      else process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
      if (failures.length > 0) throw new ArmatureError('bench.failed', `${failures.length} suite(s) failed:\n${failures.join('\n')}`);
    });
}
