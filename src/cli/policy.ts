import type { Command } from 'commander';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ArmatureError } from '../errors.ts';

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('load, run and verify ONNX model packages');

  policy
    .command('run')
    .description('run a policy once on an observation and print the action chunk as JSON')
    .requiredOption('--model <dir>', 'model package folder (models/<name>)')
    .option('--obs <file>', 'observation JSON (default: <model>/example/observation.json)')
    .option('--embodiment <name>', 'embodiment to act for (policies that drive several robots)')
    .option('--sampler <mode>', 'diffusion/flow sampling mode: ddpm, ddim, streaming, rti, truncated, euler')
    .option('--steps <n>', 'denoising / integration steps', (v) => Number.parseInt(v, 10))
    .option('--seed <n>', 'noise seed', (v) => Number.parseInt(v, 10), 0)
    .action(async (o: { model: string; obs?: string; embodiment?: string; sampler?: string; steps?: number; seed: number }) => {
      const { loadPolicy } = await import('../policy/load.ts');
      const { loadObservationFile } = await import('../observation/example.ts');
      const obsFile = o.obs ?? join(o.model, 'example', 'observation.json');
      if (!existsSync(obsFile)) {
        throw new ArmatureError('cli.obs', `observation file ${obsFile} not found: pass --obs <file> or add example/observation.json to the model package`);
      }
      const policy = await loadPolicy(o.model, { seed: o.seed, sampler: o.sampler, steps: o.steps });
      try {
        const obs = loadObservationFile(obsFile);
        // policies that drive several robots act for the manifest's first embodiment unless told otherwise
        const embodiment = o.embodiment ?? Object.keys(policy.metadata.embodiments)[0];
        const chunk = await policy.predictChunk(obs, { embodiment });
        const spec = policy.metadata.embodiments[chunk.embodiment]!;
        const rows: number[][] = [];
        for (let k = 0; k < chunk.horizon; k++) rows.push(Array.from(chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim), (v) => +v.toFixed(6)));
        const out = {
          model: policy.metadata.name,
          kind: policy.metadata.kind,
          embodiment: chunk.embodiment,
          space: spec.space,
          shape: [chunk.horizon, chunk.dim],
          names: spec.names,
          units: spec.units,
          actions: rows,
          stats: chunk.stats,
        };
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      } finally {
        await policy.dispose();
      }
    });

  policy
    .command('verify')
    .description("check the package's ONNX graphs against their PyTorch golden outputs")
    .requiredOption('--model <dir>', 'model package folder')
    .option('--tolerance <x>', 'max abs error allowed', Number.parseFloat, 1e-4)
    .action(async (o: { model: string; tolerance: number }) => {
      const { loadModelPackage, releasePackage } = await import('../policy/model-package.ts');
      const { checkGoldens } = await import('../policy/golden.ts');
      const pkg = await loadModelPackage(o.model);
      try {
        const results = await checkGoldens(pkg);
        let ok = true;
        for (const r of results) {
          const pass = r.maxAbsError <= o.tolerance;
          ok &&= pass;
          process.stdout.write(`${pass ? 'ok  ' : 'FAIL'} ${r.graph}.${r.output}: max abs error ${r.maxAbsError.toExponential(2)} over ${r.size} values\n`);
        }
        if (!ok) throw new ArmatureError('golden.mismatch', `outputs differ from PyTorch by more than ${o.tolerance}`);
      } finally {
        await releasePackage(pkg);
      }
    });
}
