import gc
import sys

TRAIN_HERE = ("run", "audit")  # the commands that train their models in worker processes of their own

if __name__ == "__main__":  # not when a worker process imports the package
    # The collector stays off while the command imports torch, scikit-learn and SciPy (some 280,000 objects that
    # each collection would walk), and what they made is frozen: no later collection walks it, the interpreter's
    # last one, at exit, included.
    gc.disable()
    from .jobs.executors import start_model_worker_server

    if sys.argv[1:2] and sys.argv[1] in TRAIN_HERE:
        start_model_worker_server()  # its imports of torch and the training code run beside the command's own
    from .cli import main

    gc.freeze()
    gc.enable()
    code = main()
    gc.freeze()  # the objects made since: at exit, the interpreter need not walk them either
    sys.exit(code)
