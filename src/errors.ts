/**
 * Errors that name the thing that is wrong and how to fix it.
 * Every error Armature raises on bad input is an ArmatureError, so callers can
 * tell them from bugs.
 */
export class ArmatureError extends Error {
  constructor(
    /** stable machine-readable code, e.g. 'manifest.invalid' */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A model manifest is malformed or disagrees with its ONNX graph(s). */
export class ManifestError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('manifest.invalid', message, options);
  }
}

/** A camera frame, proprio sample or instruction cannot be turned into model input. */
export class ObservationError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('observation.invalid', message, options);
  }
}

/** An input is older than its allowed age (or missing). */
export class StaleInputError extends ArmatureError {
  constructor(
    readonly input: string,
    readonly ageS: number,
    readonly maxAgeS: number,
  ) {
    super(
      'observation.stale',
      Number.isFinite(ageS)
        ? `input '${input}' is ${(ageS * 1000).toFixed(1)} ms old, older than its max age ${(maxAgeS * 1000).toFixed(1)} ms: check that its publisher is running, or raise max_observation_age`
        : `input '${input}' has never been received: check its topic/source`,
    );
  }
}

/** A robot description in hardware/ is malformed. */
export class EmbodimentError extends ArmatureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('embodiment.invalid', message, options);
  }
}
