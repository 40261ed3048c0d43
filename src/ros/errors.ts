import { ArmatureError } from '../errors.ts';

/**
 * A ROS-boundary failure: unknown message type, bad message, missing service,
 * unreadable bag, or rclnodejs not loadable. `code` starts with 'ros.'.
 */
export class RosError extends ArmatureError {
  constructor(code: `ros.${string}`, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
