/**
 * Small text-level MJCF helpers: enough to split a robot/object file into its top-level
 * sections and splice them into a scene. Not a general XML parser: MJCF files we splice
 * are expected to be plain (no CDATA, no entities).
 */
import { ArmatureError } from '../../src/errors.ts';

/** An MJCF scene or robot/object fragment cannot be built or loaded. */
export class SceneError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('scene.invalid', message, options);
  }
}

/** An MJCF file references an asset file that does not exist. */
export class MjcfAssetError extends ArmatureError {
  constructor(
    /** the missing file, resolved absolute path */
    readonly file: string,
    /** the MJCF file that references it */
    readonly mjcf: string,
    message: string,
  ) {
    super('scene.asset_missing', message);
  }
}

export function stripComments(xml: string): string {
  return xml.replace(/<!--[\s\S]*?-->/g, '');
}

/** escape a value for an XML attribute */
export function xmlAttr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Span of one element: [start of `<tag`, end of `</tag>` or `/>`), and its inner text span. */
interface ElementSpan {
  start: number;
  end: number;
  innerStart: number;
  innerEnd: number;
  openTag: string;
}

/** All outermost elements named `tag` (depth-aware for nested same-name tags, e.g. <default>). */
export function findElements(xml: string, tag: string): ElementSpan[] {
  const re = new RegExp(`<(/?)${tag}(?=[\\s/>])[^>]*?(/?)>`, 'g');
  const out: ElementSpan[] = [];
  let depth = 0;
  let cur: { start: number; innerStart: number; openTag: string } | null = null;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    const closing = m[1] === '/';
    const selfClosing = m[2] === '/';
    if (!closing) {
      if (depth === 0) {
        if (selfClosing) {
          out.push({ start: m.index, end: m.index + m[0].length, innerStart: m.index + m[0].length, innerEnd: m.index + m[0].length, openTag: m[0] });
          continue;
        }
        cur = { start: m.index, innerStart: m.index + m[0].length, openTag: m[0] };
      }
      if (!selfClosing) depth++;
    } else {
      depth--;
      if (depth === 0 && cur) {
        out.push({ start: cur.start, end: m.index + m[0].length, innerStart: cur.innerStart, innerEnd: m.index, openTag: cur.openTag });
        cur = null;
      }
      if (depth < 0) throw new SceneError(`MJCF: unbalanced </${tag}>`);
    }
  }
  if (depth !== 0) throw new SceneError(`MJCF: <${tag}> is not closed`);
  return out;
}

/** Inner text of every top-level `<tag>` section, concatenated. */
export function sectionInner(xml: string, tag: string): string {
  return findElements(xml, tag)
    .map((e) => xml.slice(e.innerStart, e.innerEnd))
    .join('\n');
}

/** Value of attribute `name` in an opening tag's text, or undefined. */
export function getAttr(tagText: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(tagText);
  if (m) return m[1];
  const m2 = new RegExp(`\\s${name}\\s*=\\s*'([^']*)'`).exec(tagText);
  return m2 ? m2[1] : undefined;
}

export function parseNumbers(s: string | undefined): number[] {
  if (s === undefined || s.trim() === '') return [];
  return s.trim().split(/\s+/).map(Number);
}

export const fmt = (xs: readonly number[]): string => xs.map((x) => +x.toFixed(9)).join(' ');

/** Sections of an MJCF file that a scene copies when splicing it in. */
export interface MjcfFragment {
  /** where it came from (file path or 'inline'), for error messages */
  source: string;
  defaults: string;
  assets: string;
  worldbody: string;
  tendon: string;
  equality: string;
  contact: string;
  actuator: string;
  sensor: string;
  /** first keyframe's qpos/ctrl, if any */
  key: { qpos: number[]; ctrl: number[] } | null;
  /** number of qpos entries the worldbody adds (hinge/slide 1, ball 4, free 7) */
  nq: number;
  /** number of actuators */
  nu: number;
}

const ACTUATOR_TAGS = /<(motor|position|velocity|intvelocity|damper|cylinder|muscle|adhesion|general|plugin)\b/g;

/** qpos size of the joints in a worldbody fragment. */
export function countQpos(worldbody: string): number {
  let n = 0;
  for (const m of worldbody.matchAll(/<(freejoint|joint)\b[^>]*>/g)) {
    if (m[1] === 'freejoint') n += 7;
    else {
      const type = getAttr(m[0], 'type') ?? 'hinge';
      n += type === 'free' ? 7 : type === 'ball' ? 4 : 1;
    }
  }
  return n;
}

/**
 * Split an MJCF document into spliceable sections. The file must use radians: scenes are
 * compiled with `angle="radian"` and copying a degree-based file would silently misread angles.
 */
export function parseFragment(xml: string, source: string): MjcfFragment {
  const clean = stripComments(xml);
  const compiler = findElements(clean, 'compiler')[0];
  const angle = compiler ? getAttr(compiler.openTag, 'angle') : undefined;
  if (angle !== 'radian' && /\b(range|euler|axisangle|ref|springref)\s*=/.test(clean)) {
    throw new SceneError(
      `MJCF ${source}: uses angle="${angle ?? 'degree (MJCF default)'}"; scenes are compiled in radians: add <compiler angle="radian"/> and convert its angles`,
    );
  }
  if (/<include\b/.test(clean)) {
    throw new SceneError(`MJCF ${source}: <include> is not supported when splicing into a scene; inline the included file`);
  }
  const worldbody = sectionInner(clean, 'worldbody');
  const actuator = sectionInner(clean, 'actuator');
  const keys = [...clean.matchAll(/<key\b[^>]*>/g)];
  const key = keys.length > 0
    ? { qpos: parseNumbers(getAttr(keys[0][0], 'qpos')), ctrl: parseNumbers(getAttr(keys[0][0], 'ctrl')) }
    : null;
  return {
    source,
    defaults: sectionInner(clean, 'default'),
    assets: sectionInner(clean, 'asset'),
    worldbody,
    tendon: sectionInner(clean, 'tendon'),
    equality: sectionInner(clean, 'equality'),
    contact: sectionInner(clean, 'contact'),
    actuator,
    sensor: sectionInner(clean, 'sensor'),
    key,
    nq: countQpos(worldbody),
    nu: [...actuator.matchAll(ACTUATOR_TAGS)].length,
  };
}
