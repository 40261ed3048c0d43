"""Armature node on a Franka Research 3 (franka_ros2).

    ros2 launch armature franka.launch.py model:=/path/to/model [params_file:=...] [lifecycle:=true]

Start franka_ros2 first (e.g. `ros2 launch franka_bringup franka.launch.py robot_ip:=...`,
with fr3_arm_controller active) and your camera drivers publishing the topics in
hardware/franka/fr3.yaml (`ros.cameras`), or remap them in the parameter file.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory('armature')
    model = LaunchConfiguration('model')
    params = LaunchConfiguration('params_file')
    lifecycle = LaunchConfiguration('lifecycle')
    common = dict(
        package='armature',
        executable='armature_node',
        name='armature',
        output='screen',
        parameters=[params, {'model_dir': model}],
    )
    return LaunchDescription([
        DeclareLaunchArgument('model', description='model package directory (manifest.json + ONNX)'),
        DeclareLaunchArgument('params_file', default_value=os.path.join(share, 'launch', 'franka.params.yaml')),
        DeclareLaunchArgument('lifecycle', default_value='false', description='managed node: configure/activate with ros2 lifecycle'),
        Node(**common, condition=UnlessCondition(lifecycle)),
        Node(**common, arguments=['--lifecycle'], condition=IfCondition(lifecycle)),
    ])
