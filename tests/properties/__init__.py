"""Property-based tests (hypothesis): invariants of pricing, the billing ledger and the merge of gateway events.

Every test is derandomized (a fixed seed) with a bounded number of examples, so CI runs the same cases each time.
"""
