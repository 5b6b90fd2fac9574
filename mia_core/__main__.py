import sys

from .jobs.executors import start_model_worker_server

TRAIN_HERE = ("run", "audit")  # the commands that train their models in worker processes of their own

if __name__ == "__main__":  # not when a worker process imports the package
    if sys.argv[1:2] and sys.argv[1] in TRAIN_HERE:
        start_model_worker_server()  # its imports of torch and the training code run beside the command's own
    from .cli import main

    sys.exit(main())
