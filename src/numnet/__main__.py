"""``python -m numnet``: the command line (importing this module runs nothing)."""

from numnet.cli import main

if __name__ == "__main__":
    main()
