/**
 * TypeScript shapes of the ROS 2 messages Armature uses, written from the official
 * `.msg` files in ./interfaces/. Field names are the ROS field names.
 *
 * Arrays of numbers are typed arrays (Float64Array for float64[], Uint8Array for
 * uint8[]), which is what CDR deserialization and rclnodejs (enableTypedArray) both
 * produce. Fixed-size arrays (CameraInfo k/r/p) are typed arrays of that length.
 * Messages are plain data: subscribers must not mutate what they receive.
 */

/** builtin_interfaces/msg/Time: ROS time, seconds + nanoseconds in [0, 1e9). */
export interface Time {
  sec: number;
  nanosec: number;
}

/** builtin_interfaces/msg/Duration: seconds + nanoseconds in [0, 1e9). */
export interface Duration {
  sec: number;
  nanosec: number;
}

/** std_msgs/msg/Header */
export interface Header {
  stamp: Time;
  /** TF frame the data is expressed in */
  frame_id: string;
}

/** std_msgs/msg/String */
export interface StringMsg {
  data: string;
}

/** std_msgs/msg/Bool */
export interface BoolMsg {
  data: boolean;
}

/** std_msgs/msg/MultiArrayDimension */
export interface MultiArrayDimension {
  label: string;
  size: number;
  stride: number;
}

/** std_msgs/msg/MultiArrayLayout */
export interface MultiArrayLayout {
  dim: MultiArrayDimension[];
  data_offset: number;
}

/** std_msgs/msg/Float64MultiArray (forward position controllers take this) */
export interface Float64MultiArray {
  layout: MultiArrayLayout;
  data: Float64Array;
}

/** sensor_msgs/msg/Image */
export interface Image {
  header: Header;
  /** rows, px */
  height: number;
  /** columns, px */
  width: number;
  /** e.g. rgb8, bgr8, mono8, 16UC1 */
  encoding: string;
  /** 1 if multi-byte pixels are big-endian */
  is_bigendian: number;
  /** bytes per row */
  step: number;
  data: Uint8Array;
}

/** sensor_msgs/msg/CompressedImage */
export interface CompressedImage {
  header: Header;
  /** e.g. 'jpeg', 'png', or 'rgb8; jpeg compressed bgr8' */
  format: string;
  data: Uint8Array;
}

/** sensor_msgs/msg/JointState; arrays are index-aligned with `name` (or empty). */
export interface JointState {
  header: Header;
  name: string[];
  /** rad (revolute) or m (prismatic) */
  position: Float64Array;
  /** rad/s or m/s */
  velocity: Float64Array;
  /** N·m or N */
  effort: Float64Array;
}

/** sensor_msgs/msg/RegionOfInterest */
export interface RegionOfInterest {
  x_offset: number;
  y_offset: number;
  height: number;
  width: number;
  do_rectify: boolean;
}

/** sensor_msgs/msg/CameraInfo */
export interface CameraInfo {
  header: Header;
  height: number;
  width: number;
  distortion_model: string;
  /** distortion parameters */
  d: Float64Array;
  /** 3x3 row-major intrinsics, length 9 */
  k: Float64Array;
  /** 3x3 row-major rectification, length 9 */
  r: Float64Array;
  /** 3x4 row-major projection, length 12 */
  p: Float64Array;
  binning_x: number;
  binning_y: number;
  roi: RegionOfInterest;
}

/** trajectory_msgs/msg/JointTrajectoryPoint */
export interface JointTrajectoryPoint {
  /** rad or m */
  positions: Float64Array;
  /** rad/s or m/s */
  velocities: Float64Array;
  /** rad/s² or m/s² */
  accelerations: Float64Array;
  effort: Float64Array;
  /** time of this point relative to header.stamp of the trajectory */
  time_from_start: Duration;
}

/** trajectory_msgs/msg/JointTrajectory */
export interface JointTrajectory {
  header: Header;
  joint_names: string[];
  points: JointTrajectoryPoint[];
}

/** geometry_msgs/msg/Point, m */
export interface Point {
  x: number;
  y: number;
  z: number;
}

/** geometry_msgs/msg/Quaternion (x, y, z, w) */
export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

/** geometry_msgs/msg/Pose */
export interface Pose {
  position: Point;
  orientation: Quaternion;
}

/** geometry_msgs/msg/PoseStamped */
export interface PoseStamped {
  header: Header;
  pose: Pose;
}

/** nav_msgs/msg/Path */
export interface Path {
  header: Header;
  poses: PoseStamped[];
}

/** diagnostic_msgs/msg/KeyValue */
export interface KeyValue {
  key: string;
  value: string;
}

/** diagnostic_msgs/msg/DiagnosticStatus level constants. */
export const DiagnosticLevel = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;
export type DiagnosticLevel = (typeof DiagnosticLevel)[keyof typeof DiagnosticLevel];

/** diagnostic_msgs/msg/DiagnosticStatus */
export interface DiagnosticStatus {
  /** one of DiagnosticLevel */
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValue[];
}

/** diagnostic_msgs/msg/DiagnosticArray */
export interface DiagnosticArray {
  header: Header;
  status: DiagnosticStatus[];
}

/** std_srvs/srv/Trigger request (empty) */
export type TriggerRequest = Record<string, never>;

/** std_srvs/srv/Trigger response */
export interface TriggerResponse {
  success: boolean;
  message: string;
}

/** franka_msgs/msg/GraspEpsilon, m */
export interface GraspEpsilon {
  inner: number;
  outer: number;
}

/** franka_msgs/action/Move goal */
export interface MoveGoal {
  /** finger opening, m */
  width: number;
  /** m/s */
  speed: number;
}

/** franka_msgs/action/Grasp goal */
export interface GraspGoal {
  /** m */
  width: number;
  epsilon: GraspEpsilon;
  /** m/s */
  speed: number;
  /** N */
  force: number;
}

/** franka_msgs/action/{Move,Grasp} result */
export interface GripperResult {
  success: boolean;
  error: string;
}

/** franka_msgs/action/{Move,Grasp} feedback (empty) */
export type EmptyFeedback = Record<string, never>;

/** Every message type Armature (de)serializes, by ROS type name. */
export interface MessageTypes {
  'builtin_interfaces/msg/Time': Time;
  'builtin_interfaces/msg/Duration': Duration;
  'std_msgs/msg/Header': Header;
  'std_msgs/msg/String': StringMsg;
  'std_msgs/msg/Bool': BoolMsg;
  'std_msgs/msg/MultiArrayDimension': MultiArrayDimension;
  'std_msgs/msg/MultiArrayLayout': MultiArrayLayout;
  'std_msgs/msg/Float64MultiArray': Float64MultiArray;
  'sensor_msgs/msg/Image': Image;
  'sensor_msgs/msg/CompressedImage': CompressedImage;
  'sensor_msgs/msg/JointState': JointState;
  'sensor_msgs/msg/RegionOfInterest': RegionOfInterest;
  'sensor_msgs/msg/CameraInfo': CameraInfo;
  'trajectory_msgs/msg/JointTrajectoryPoint': JointTrajectoryPoint;
  'trajectory_msgs/msg/JointTrajectory': JointTrajectory;
  'geometry_msgs/msg/Point': Point;
  'geometry_msgs/msg/Quaternion': Quaternion;
  'geometry_msgs/msg/Pose': Pose;
  'geometry_msgs/msg/PoseStamped': PoseStamped;
  'nav_msgs/msg/Path': Path;
  'diagnostic_msgs/msg/KeyValue': KeyValue;
  'diagnostic_msgs/msg/DiagnosticStatus': DiagnosticStatus;
  'diagnostic_msgs/msg/DiagnosticArray': DiagnosticArray;
  'franka_msgs/msg/GraspEpsilon': GraspEpsilon;
  'std_srvs/srv/Trigger_Request': TriggerRequest;
  'std_srvs/srv/Trigger_Response': TriggerResponse;
  'franka_msgs/action/Move_Goal': MoveGoal;
  'franka_msgs/action/Move_Result': GripperResult;
  'franka_msgs/action/Move_Feedback': EmptyFeedback;
  'franka_msgs/action/Grasp_Goal': GraspGoal;
  'franka_msgs/action/Grasp_Result': GripperResult;
  'franka_msgs/action/Grasp_Feedback': EmptyFeedback;
}
export type MessageTypeName = keyof MessageTypes;

/** Services, by ROS type name. */
export interface ServiceTypes {
  'std_srvs/srv/Trigger': { request: TriggerRequest; response: TriggerResponse };
}
export type ServiceTypeName = keyof ServiceTypes;

/** Actions, by ROS type name. */
export interface ActionTypes {
  'franka_msgs/action/Move': { goal: MoveGoal; result: GripperResult; feedback: EmptyFeedback };
  'franka_msgs/action/Grasp': { goal: GraspGoal; result: GripperResult; feedback: EmptyFeedback };
}
export type ActionTypeName = keyof ActionTypes;
