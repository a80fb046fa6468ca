import sys

from mi_course.cli import main

sys.exit(main())
