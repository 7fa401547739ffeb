"""The TaskFlow side of docs/coming-from-taskflow.md: each region is shown beside its flowkit twin
(tests/docs/coming_from_taskflow.cpp). Runs with Debian's python3 and python3-taskflow; the
jobboard and conductor part needs python3-zake (an in-memory ZooKeeper) and is skipped without it.
"""

import contextlib
import shutil
import tempfile

import taskflow.engines
from taskflow import task
from taskflow import retry
from taskflow.patterns import graph_flow as gf
from taskflow.patterns import linear_flow as lf
from taskflow.patterns import unordered_flow as uf
from taskflow.persistence import backends as persistence_backends
from taskflow.persistence import models
from taskflow.types import notifier


# snippet: task
class Charge(task.Task):
    default_provides = "receipt"

    def execute(self, order):
        return "R-%d" % order

    def revert(self, order, result, flow_failures, **kwargs):
        print("refund", order, result)   # result: execute's return value, or a Failure
# end snippet


# snippet: arguments
class Add(task.Task):
    def execute(self, x, y):
        return x + y

add = Add("add", provides="sum")                         # requires x, y (from the signature)
add_pq = Add("add_pq", rebind={"x": "p"}, provides="s2")   # x reads the value named p
add_10 = Add("add_10", inject={"y": 10}, provides="s3")   # y is the task's own value
# end snippet


class Decline(task.Task):
    def execute(self, receipt):
        raise RuntimeError("declined")


def check_task():
    e = taskflow.engines.load(lf.Flow("f").add(Charge("charge"), Decline("decline")),
                              store={"order": 7})
    try:
        e.run()
    except RuntimeError:
        pass
    assert e.storage.get_atom_state("charge") == "REVERTED"


def check_arguments():
    flow = lf.Flow("f").add(add, add_pq, add_10)
    e = taskflow.engines.load(flow, store={"x": 1, "y": 2, "p": 5})
    e.run()
    assert e.storage.fetch("sum") == 3
    assert e.storage.fetch("s2") == 7
    assert e.storage.fetch("s3") == 11


class Produce(task.Task):
    def execute(self):
        return 1


# snippet: patterns
a, b, c, d = (Produce(n, provides=n + "_out") for n in "abcd")
outer = lf.Flow("outer").add(
    a,
    uf.Flow("side").add(b, c),              # b and c: no order between them
    gf.Flow("graph").add(d),                # order from provides/requires (and link())
)
# end snippet


def check_patterns():
    e = taskflow.engines.load(outer)
    e.run()
    assert e.storage.fetch("d_out") == 1


class Fetch(task.Task):
    def execute(self, order_id):
        return order_id * 2.5


class Pay(task.Task):
    def execute(self, amount):
        return "R%s" % amount


# snippet: run
checkout = lf.Flow("checkout").add(Fetch("fetch", provides="amount"),
                                   Pay("pay", provides="receipt"))
engine = taskflow.engines.load(checkout, store={"order_id": 42}, engine="serial")
engine.run()                                   # raises the task's exception if it reverted
receipt = engine.storage.fetch("receipt")      # looked up by name, at run time
# end snippet
assert receipt == "R105.0"


class Flaky(task.Task):
    def execute(self, card):
        if card != "visa":
            raise RuntimeError(card + " declined")
        return card + " charged"


# snippet: retries
pay = lf.Flow("pay", retry=retry.Times(3)).add(Flaky("charge", provides="receipt"))
by_card = lf.Flow("pay", retry=retry.ForEach(["amex", "visa"], provides="card"))
by_stored_cards = lf.Flow("pay", retry=retry.ParameterizedForEach(rebind=["cards"],
                                                                    provides="card"))
# end snippet


def check_retries():
    by_card.add(Flaky("charge", provides="receipt"))
    e = taskflow.engines.load(by_card)
    e.run()
    assert e.storage.fetch("receipt") == "visa charged"
    by_stored_cards.add(Flaky("charge", provides="receipt"))
    e = taskflow.engines.load(by_stored_cards, store={"cards": ["mc", "visa"]})
    e.run()
    assert e.storage.fetch("receipt") == "visa charged"


class Asked(task.Task):
    def execute(self, email):
        return bool(email)


class Mail(task.Task):
    def execute(self, email):
        return "mailed " + email


# snippet: decider
wants, mail = Asked("wants_receipt", provides="asked"), Mail("mail", provides="mailed")
receipts = gf.Flow("receipts").add(wants, mail)
receipts.link(wants, mail, decider=lambda history: history["wants_receipt"],
          decider_depth="ALL")                 # history: {atom name: result}
# end snippet


def check_decider():
    e = taskflow.engines.load(receipts, store={"email": ""})
    e.run()
    assert e.storage.get_atom_state("mail") == "IGNORE"


def checkpointed(directory):
    # snippet: persistence
    backend = persistence_backends.fetch({"connection": "dir", "path": directory})
    with contextlib.closing(backend.get_connection()) as conn:
        conn.upgrade()
    book = models.LogBook("orders")
    flow_detail = models.FlowDetail("order-42", uuid="order-42")
    book.add(flow_detail)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    engine = taskflow.engines.load(checkout, store={"order_id": 42}, book=book,
                                   flow_detail=flow_detail, backend=backend)
    engine.run()                      # after a crash: load the same flow_detail and run()
    # end snippet
    return engine


def check_persistence():
    directory = tempfile.mkdtemp()
    try:
        assert checkpointed(directory).storage.fetch("receipt") == "R105.0"
    finally:
        shutil.rmtree(directory)


# snippet: listeners
def on_atom(state, details):
    print(details["task_name"], state)

engine = taskflow.engines.load(checkout, store={"order_id": 42})
engine.atom_notifier.register(notifier.Notifier.ANY, on_atom)
engine.notifier.register(notifier.Notifier.ANY, lambda state, details: print("flow", state))
engine.run()
# end snippet


def checkout_factory():
    return lf.Flow("checkout").add(Fetch("fetch", provides="amount"),
                                   Pay("pay", provides="receipt"))


def jobs_and_conductor(client, directory):
    from taskflow.conductors import backends as conductors
    from taskflow.jobs import backends as jobboards
    # snippet: jobs
    persistence = persistence_backends.fetch({"connection": "dir", "path": directory})
    board = jobboards.fetch("orders", {"board": "zookeeper", "path": "/taskflow/orders"},
                            client=client, persistence=persistence)
    board.connect()
    book = models.LogBook("order 42")
    flow_detail = models.FlowDetail("checkout", uuid="order-42")
    book.add(flow_detail)
    with contextlib.closing(persistence.get_connection()) as conn:
        conn.save_logbook(book)
    taskflow.engines.save_factory_details(flow_detail, checkout_factory, (), {},
                                          backend=persistence)
    job = board.post("order 42", book=book, details={"store": {"order_id": 42}})

    conductor = conductors.fetch("blocking", "conductor-1", board,
                                 persistence=persistence, engine="serial")
    conductor.notifier.register("job_consumed", lambda event, details: conductor.stop())
    conductor.run()                              # claims, runs, consumes; until stop()
    # end snippet
    assert board.job_count == 0
    assert job.state == "COMPLETE"
    conductor.close()
    board.close()


def check_jobs():
    try:
        from zake import fake_client
    except ImportError:
        print("python3-zake is not installed: the jobboard part is skipped")
        return
    client = fake_client.FakeClient()
    client.start()
    directory = tempfile.mkdtemp()
    try:
        jobs_and_conductor(client, directory)
    finally:
        shutil.rmtree(directory)
        client.stop()


if __name__ == "__main__":
    check_task()
    check_arguments()
    check_patterns()
    check_retries()
    check_decider()
    check_persistence()
    check_jobs()
    print("ok")
