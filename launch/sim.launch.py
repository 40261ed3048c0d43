"""The unchanged Armature node against the MuJoCo simulator as a ROS-shaped robot.

    ros2 launch armature sim.launch.py model:=/path/to/model [scene:=franka]

`armature_sim` publishes camera images and joint states on the real robot's topics
(hardware/sim/<scene>.sim.yml) and accepts the same controller messages and gripper
actions; only this file and sim.params.yaml differ from franka.launch.py.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory('armature')
    return LaunchDescription([
        DeclareLaunchArgument('model', description='model package directory'),
        DeclareLaunchArgument('scene', default_value='franka', description='simulator scene: franka | dual_arm'),
        DeclareLaunchArgument('params_file', default_value=os.path.join(share, 'launch', 'sim.params.yaml')),
        Node(
            package='armature',
            executable='armature_sim',
            name='armature_sim',
            output='screen',
            arguments=['--scene', LaunchConfiguration('scene')],
        ),
        Node(
            package='armature',
            executable='armature_node',
            name='armature',
            output='screen',
            parameters=[LaunchConfiguration('params_file'), {'model_dir': LaunchConfiguration('model')}],
        ),
    ])
