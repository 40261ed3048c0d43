/** Raw pixel encodings, named as in sensor_msgs/msg/Image. */
export const RAW_ENCODINGS = ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', '16UC1'] as const;
export type RawEncoding = (typeof RAW_ENCODINGS)[number];

/** Compressed formats, as in sensor_msgs/msg/CompressedImage `format`. */
export const COMPRESSED_FORMATS = ['jpeg', 'png'] as const;
export type CompressedFormat = (typeof COMPRESSED_FORMATS)[number];

/** An uncompressed camera frame (sensor_msgs/msg/Image). */
export interface RawImage {
  readonly type: 'raw';
  readonly encoding: RawEncoding;
  readonly width: number;
  readonly height: number;
  /** bytes per row (>= width * bytes per pixel) */
  readonly step: number;
  /** true if 16-bit data is big-endian (sensor_msgs is_bigendian) */
  readonly bigEndian?: boolean;
  /** pixel rows; not modified once the frame is delivered (policies may feed it to a graph without copying) */
  readonly data: Uint8Array;
  /** capture time, s */
  readonly stamp: number;
}

/** A compressed camera frame (sensor_msgs/msg/CompressedImage). */
export interface CompressedImage {
  readonly type: 'compressed';
  readonly format: CompressedFormat;
  readonly data: Uint8Array;
  /** capture time, s */
  readonly stamp: number;
}

export type CameraFrame = RawImage | CompressedImage;

/** A proprioceptive reading: named vectors with one capture time. */
export interface ProprioSample {
  /**
   * Named fields, e.g. joint_positions (rad), joint_velocities (rad/s),
   * gripper (m, finger opening), ee_pose (m + quaternion xyzw).
   */
  readonly fields: Readonly<Record<string, Float64Array>>;
  /** capture time, s */
  readonly stamp: number;
}

/**
 * Everything a policy sees at one control step, in sensor form.
 * The simulator and the ROS node both produce exactly this.
 */
export interface Observation {
  /** time the observation was assembled, s (same clock as the stamps) */
  readonly stamp: number;
  /** camera name -> latest frame */
  readonly images: Readonly<Record<string, CameraFrame>>;
  readonly proprio: ProprioSample;
  readonly instruction: string;
}
