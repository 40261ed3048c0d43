"""Armature node on an AgiBot dual arm (Genie Sim conventions: /joint_states in,
/joint_command out, cameras /genie_sim/<cam>_rgb).

    ros2 launch armature agibot.launch.py model:=/path/to/model [params_file:=...]
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
        DeclareLaunchArgument('model', description='model package directory with an agibot embodiment'),
        DeclareLaunchArgument('params_file', default_value=os.path.join(share, 'launch', 'agibot.params.yaml')),
        Node(
            package='armature',
            executable='armature_node',
            name='armature',
            output='screen',
            parameters=[LaunchConfiguration('params_file'), {'model_dir': LaunchConfiguration('model')}],
        ),
    ])
