/**
 * Model package manifest: what a folder under models/ promises about its ONNX graphs.
 *
 * A model package is a folder with manifest.json, one or more ONNX graphs, golden
 * test vectors (golden/) and an example observation (example/). The manifest is
 * validated here with errors that name the file and field; graph I/O is checked
 * against the ONNX sessions in `onnx-graph.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ManifestError } from '../errors.ts';
import { BLEND_RAMPS, SCHEDULE_MODES } from '../schedule/types.ts';

export const MANIFEST_FORMAT = 'armature.model/1';

export const POLICY_KINDS = ['chunk_regression', 'universal_action', 'diffusion', 'flow'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

const finiteArray = z.array(z.number().finite());

/** One tensor of a graph: name, element type and shape (strings are symbolic dims such as 'batch'). */
const tensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'int64', 'bool', 'uint8']),
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
});

const graphSpec = z.object({
  /** ONNX file, relative to the package folder */
  file: z.string().min(1),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
});

/**
 * Raw camera pixels as the graph input: uint8 [batch, height, width, C] (HWC, C = 3 in the
 * camera's `channels` order, 1 for mono). The graph itself casts, scales, normalizes with the
 * camera's scale/mean/std, transposes to CHW and resizes to the camera's height x width, so the
 * runtime only copies bytes (or converts encoding/size in one pass when the frame differs).
 */
const pixelsSpec = z
  .object({
    dtype: z.literal('uint8'),
    layout: z.literal('hwc'),
    /** graph input height, px (usually the simulator's render size) */
    height: z.number().int().positive(),
    /** graph input width, px */
    width: z.number().int().positive(),
  })
  .strict();

const cameraSpec = z.object({
  /** camera name as it appears in Observation.images, e.g. 'agentview' */
  name: z.string().min(1),
  /** graph input that receives this camera: float32 [batch, C, height, width], or uint8 [batch, H, W, C] with `pixels` */
  input: z.string().min(1),
  /** model image height after resizing, px (inside the graph when `pixels` is set) */
  height: z.number().int().positive(),
  /** model image width after resizing, px */
  width: z.number().int().positive(),
  /** optional: the graph takes uint8 HWC pixels of this size and preprocesses them itself */
  pixels: pixelsSpec.optional(),
  /** channel order of the model tensor */
  channels: z.enum(['rgb', 'bgr', 'mono']),
  /** how to fit the frame to height x width (to pixels.height x pixels.width with `pixels`): stretch, or center-crop to the aspect ratio first */
  resize: z.enum(['stretch', 'center_crop']).default('stretch'),
  /** pixel scale applied before mean/std (1/255 for 8-bit); with `pixels`, scale/mean/std describe what the graph applies */
  scale: z.number().positive().default(1 / 255),
  mean: finiteArray,
  std: finiteArray.refine((a) => a.every((v) => v > 0), 'std must be > 0'),
  /**
   * embodiments this camera serves (default: all). Lets one graph input take a different camera per
   * robot (image_primary <- agentview for the Franka, <- head for the dual arm) and a decoder take
   * only its own robot's wrist cameras.
   */
  embodiments: z.array(z.string().min(1)).min(1).optional(),
});

const proprioFieldSpec = z.object({
  /** field name in ProprioSample.fields, e.g. 'joint_positions' */
  name: z.string().min(1),
  dim: z.number().int().positive(),
  mean: finiteArray,
  std: finiteArray.refine((a) => a.every((v) => v > 0), 'std must be > 0'),
});

const proprioSpec = z.object({
  /** graph input receiving the concatenated, normalized fields, float32 [1, sum(dim)] */
  input: z.string().min(1),
  fields: z.array(proprioFieldSpec).min(1),
});

const languageSpec = z.object({
  /** graph input for token ids, int64 [1, max_length] */
  input: z.string().min(1),
  /** graph input for the attention mask (1 = token), float32 [1, max_length]; optional */
  mask_input: z.string().min(1).optional(),
  tokenizer: z.literal('word'),
  /** vocabulary file, one token per line; line index = id */
  vocab: z.string().min(1),
  max_length: z.number().int().positive(),
  lowercase: z.boolean().default(true),
  pad_token: z.string().default('<pad>'),
  unk_token: z.string().default('<unk>'),
});

export const ACTION_SPACES = ['joint_position', 'joint_delta', 'ee_delta_pose'] as const;
export type ActionSpace = (typeof ACTION_SPACES)[number];

const actionSpec = z.object({
  /** how the robot interprets an action vector */
  space: z.enum(ACTION_SPACES),
  names: z.array(z.string().min(1)).min(1),
  units: z.array(z.string().min(1)).min(1),
  /** normalization: model output * std + mean = action in units */
  mean: finiteArray,
  std: finiteArray.refine((a) => a.every((v) => v > 0), 'std must be > 0'),
  /** indices of discrete gripper dimensions (open/close), handled specially by RTI warm starts */
  gripper_dims: z.array(z.number().int().nonnegative()).default([]),
});

const scheduleSpec = z
  .object({
    mode: z.enum(SCHEDULE_MODES),
    /** blend: ticks from the old plan to the new chunk */
    blend_steps: z.number().int().nonnegative().optional(),
    ramp: z.enum(BLEND_RAMPS).optional(),
    /** ensemble: ACT's weight decay m */
    ensemble_decay: z.number().nonnegative().optional(),
  })
  .strict()
  .refine((s) => s.mode === 'blend' || (s.blend_steps === undefined && s.ramp === undefined), 'blend_steps and ramp apply to mode blend only')
  .refine((s) => s.mode === 'ensemble' || s.ensemble_decay === undefined, 'ensemble_decay applies to mode ensemble only');

/** How one embodiment sees and acts: its own proprio and action space (and decoder, for universal actions). */
const embodimentSpec = z.object({
  /** robot description in hardware/<robot>/ */
  robot: z.string().min(1),
  proprio: proprioSpec,
  action: actionSpec,
  /** universal_action only: graph name of this embodiment's decoder head */
  decoder: z.string().min(1).optional(),
});

const noiseScheduleSpec = z.object({
  type: z.literal('ddpm'),
  num_train_timesteps: z.number().int().positive(),
  beta_schedule: z.enum(['linear', 'squaredcos_cap_v2']),
  beta_start: z.number().positive().default(1e-4),
  beta_end: z.number().positive().default(0.02),
  prediction: z.enum(['epsilon', 'sample']),
  clip_sample: z.number().positive().optional(),
});

const diffusionSpec = z.object({
  schedule: noiseScheduleSpec,
  /** encoder graph: observation -> embedding */
  encoder: z.string().min(1),
  /** denoiser graph: (noisy actions, per-position timesteps, embedding) -> prediction */
  denoiser: z.string().min(1),
  /** whether the denoiser was trained with per-position noise levels (needed for streaming) */
  per_position_timesteps: z.boolean(),
});

const flowSpec = z.object({
  /**
   * Exits in backbone order. Stage k maps the previous stage's features (or the observation for k = 0)
   * to features h_k; head k is the velocity field v(x_t, t, h_k).
   */
  exits: z
    .array(z.object({ stage: z.string().min(1), head: z.string().min(1) }))
    .min(1),
  /** integration steps from t = 0 (noise) to t = 1 (actions) for a cold start */
  steps: z.number().int().positive(),
  /** scale of the source noise the runtime samples from unless the caller chooses (default 1 = as trained) */
  noise_scale: z.number().nonnegative().finite().optional(),
});

const universalActionSpec = z.object({
  /** backbone graph: observation -> logits over the codebook */
  backbone: z.string().min(1),
  /** float32 little-endian [size, dim] file */
  codebook: z.string().min(1),
  size: z.number().int().positive(),
  dim: z.number().int().positive(),
});

export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    name: z.string().min(1),
    kind: z.enum(POLICY_KINDS),
    description: z.string().default(''),
    /** false for randomly initialised packages shipped to exercise the runtime */
    trained: z.boolean(),
    control_rate_hz: z.number().positive(),
    /** actions per chunk */
    chunk_length: z.number().int().positive(),
    /**
     * actions executed per chunk before replanning when the caller does not choose (Diffusion
     * Policy: 8 of 16); default chunk_length
     */
    execute_length: z.number().int().positive().optional(),
    /**
     * how chunks are executed when the caller does not choose (default: execute-then-replan):
     * e.g. blend into each new chunk over blend_steps ticks, where that measured better
     */
    schedule: scheduleSpec.optional(),
    cameras: z.array(cameraSpec),
    language: languageSpec.optional(),
    /** embodiment name -> spec; exactly one unless kind is universal_action */
    embodiments: z.record(z.string().min(1), embodimentSpec),
    graphs: z.record(z.string().min(1), graphSpec),
    diffusion: diffusionSpec.optional(),
    flow: flowSpec.optional(),
    universal_action: universalActionSpec.optional(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type TensorSpec = z.infer<typeof tensorSpec>;
export type GraphSpec = z.infer<typeof graphSpec>;
export type CameraSpec = z.infer<typeof cameraSpec>;
export type PixelsSpec = z.infer<typeof pixelsSpec>;
export type ProprioSpec = z.infer<typeof proprioSpec>;
export type LanguageSpec = z.infer<typeof languageSpec>;
export type ActionSpec = z.infer<typeof actionSpec>;
export type EmbodimentSpec = z.infer<typeof embodimentSpec>;
export type NoiseScheduleSpec = z.infer<typeof noiseScheduleSpec>;
export type DiffusionSpec = z.infer<typeof diffusionSpec>;
export type FlowSpec = z.infer<typeof flowSpec>;
export type UniversalActionSpec = z.infer<typeof universalActionSpec>;

/** Expected graph input of a camera: [dtype, shape after the batch dim]. */
export function cameraInputShape(c: CameraSpec): { dtype: 'float32' | 'uint8'; dims: [number, number, number] } {
  const ch = c.channels === 'mono' ? 1 : 3;
  if (c.pixels) return { dtype: 'uint8', dims: [c.pixels.height, c.pixels.width, ch] };
  return { dtype: 'float32', dims: [ch, c.height, c.width] };
}

/** Why a graph input cannot receive camera `c` (dtype, rank, fixed dims), or null if it can. */
function cameraInputProblem(c: CameraSpec, t: TensorSpec): string | null {
  const want = cameraInputShape(c);
  const layout = c.pixels ? `uint8 [batch, ${want.dims.join(', ')}] (HWC pixels, from cameras.pixels)` : `float32 [batch, ${want.dims.join(', ')}] (normalized CHW)`;
  const fix = c.pixels
    ? 'export the graph with a uint8 HWC pixel input of cameras.pixels size, or drop the pixels block for a float CHW input'
    : 'add a cameras.pixels block if the graph takes uint8 HWC pixels, or fix the camera height/width/channels';
  const dims = t.shape.slice(1);
  const ok =
    t.dtype === want.dtype &&
    t.shape.length === 4 &&
    dims.every((d, k) => d === want.dims[k]);
  return ok ? null : `is ${t.dtype} [${t.shape.join(', ')}], but the camera needs ${layout}; ${fix}`;
}

/** Parse and cross-check a manifest object; `source` names the file in errors. */
export function parseManifest(raw: unknown, source = 'manifest.json'): Manifest {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ManifestError(`${source} is not a valid ${MANIFEST_FORMAT} manifest:\n${lines.join('\n')}`);
  }
  const m = parsed.data;
  const fail = (field: string, msg: string): never => {
    throw new ManifestError(`${source}: ${field}: ${msg}`);
  };
  const needGraph = (field: string, graph: string): void => {
    if (!(graph in m.graphs)) fail(field, `names graph '${graph}', but graphs has only [${Object.keys(m.graphs).join(', ')}]`);
  };

  m.cameras.forEach((c, i) => {
    const ch = c.channels === 'mono' ? 1 : 3;
    if (c.mean.length !== ch || c.std.length !== ch) {
      fail(`cameras[${i}] (${c.name})`, `mean/std need ${ch} values for channels '${c.channels}', got ${c.mean.length}/${c.std.length}`);
    }
    for (const [g, spec] of Object.entries(m.graphs)) {
      const t = spec.inputs.find((x) => x.name === c.input);
      if (!t) continue;
      const p = cameraInputProblem(c, t);
      if (p) fail(`graphs.${g}.inputs (${c.input}) for cameras[${i}] (${c.name})`, p);
    }
  });
  const embodimentNames = Object.keys(m.embodiments);
  if (embodimentNames.length === 0) fail('embodiments', 'at least one embodiment is required');
  m.cameras.forEach((c, i) => {
    for (const e of c.embodiments ?? []) {
      if (!(e in m.embodiments)) fail(`cameras[${i}] (${c.name}).embodiments`, `names embodiment '${e}', but embodiments has only [${embodimentNames.join(', ')}]`);
    }
    // two cameras may feed one input only for disjoint sets of robots, else the input would be written twice
    m.cameras.slice(0, i).forEach((d, j) => {
      if (d.input !== c.input) return;
      const mine = new Set(c.embodiments ?? embodimentNames);
      const shared = (d.embodiments ?? embodimentNames).filter((e) => mine.has(e));
      if (shared.length > 0) {
        fail(`cameras[${i}] (${c.name})`, `feeds input '${c.input}' like cameras[${j}] (${d.name}) for embodiments [${shared.join(', ')}]; give each camera a disjoint 'embodiments' list`);
      }
    });
  });
  if (m.kind !== 'universal_action' && embodimentNames.length !== 1) {
    fail('embodiments', `a ${m.kind} policy drives exactly one embodiment, got ${embodimentNames.length}`);
  }
  for (const [name, e] of Object.entries(m.embodiments)) {
    const a = e.action;
    const dim = a.names.length;
    if (a.units.length !== dim || a.mean.length !== dim || a.std.length !== dim) {
      fail(`embodiments.${name}.action`, `names, units, mean and std must have the same length (${dim}), got ${a.units.length}/${a.mean.length}/${a.std.length}`);
    }
    for (const g of a.gripper_dims) if (g >= dim) fail(`embodiments.${name}.action.gripper_dims`, `index ${g} is outside 0..${dim - 1}`);
    e.proprio.fields.forEach((f, i) => {
      if (f.mean.length !== f.dim || f.std.length !== f.dim) {
        fail(`embodiments.${name}.proprio.fields[${i}] (${f.name})`, `mean/std need ${f.dim} values, got ${f.mean.length}/${f.std.length}`);
      }
    });
    if (m.kind === 'universal_action') {
      if (!e.decoder) fail(`embodiments.${name}.decoder`, 'a universal_action policy needs a decoder graph per embodiment');
      else needGraph(`embodiments.${name}.decoder`, e.decoder);
    }
  }
  for (const [kind, section] of [
    ['diffusion', 'diffusion'],
    ['flow', 'flow'],
    ['universal_action', 'universal_action'],
  ] as const) {
    if (m.kind === kind && !m[section]) fail(section, `required for kind '${kind}'`);
    if (m.kind !== kind && m[section]) fail(section, `only allowed for kind '${kind}', this manifest is '${m.kind}'`);
  }
  if (m.diffusion) {
    needGraph('diffusion.encoder', m.diffusion.encoder);
    needGraph('diffusion.denoiser', m.diffusion.denoiser);
  }
  if (m.flow) {
    m.flow.exits.forEach((e, i) => {
      needGraph(`flow.exits[${i}].stage`, e.stage);
      needGraph(`flow.exits[${i}].head`, e.head);
    });
  }
  if (m.universal_action) needGraph('universal_action.backbone', m.universal_action.backbone);
  if (m.kind === 'chunk_regression' && !('policy' in m.graphs)) fail('graphs', "a chunk_regression policy needs a graph named 'policy'");
  return m;
}

/** The cameras that serve embodiment `name` (those without an `embodiments` list serve every robot). */
export function camerasForEmbodiment(m: Pick<Manifest, 'cameras'>, name: string): CameraSpec[] {
  return m.cameras.filter((c) => !c.embodiments || c.embodiments.includes(name));
}

/** Read and validate `<dir>/manifest.json`. */
export function loadManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ManifestError(`cannot read ${file}: is '${dir}' a model package folder?`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ManifestError(`${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseManifest(raw, file);
}
