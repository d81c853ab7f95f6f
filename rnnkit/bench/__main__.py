import sys

from rnnkit.bench import main

sys.exit(main())
