"""Shared helpers for Armature model packages (models/<name>/build.py and train.py).

Each package folder imports this package after putting models/ on sys.path:

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
"""
