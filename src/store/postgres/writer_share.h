// Which of a node's group-commit writers commits a batch (PostgresSeriesStore, `store.writers`),
// and how many of them the node uses.
//
// The writers of every node on one database commit into it at once, and past a few concurrent
// group commits a modest PostgreSQL spends more per message, not less: each commit pays its fixed
// cost (a transaction, a statement per table, a WAL flush) for a smaller group. On the 2-core test
// machine two nodes with two writers each stored 59,861 points/s on average, with one each 72,467
// (docs/SCALE.md, "Limits measured"). So `store.writers` is what the database takes from all the
// nodes together: each node uses max(1, writers / nodes alive), and more again when a node dies.
//
// A device's batches are committed in the order given: a device goes to writer (its id modulo the
// writers in use), and stays with the writer that has its batches still on their way while that
// number changes, until they are done. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "model/model.h"

namespace bysans::pg {

class WriterShare {
 public:
  explicit WriterShare(size_t writers) : writers_(writers < 1 ? 1 : writers), in_use_(writers_) {}

  // The nodes alive on the database, this one included (0 counts as 1).
  void SetNodes(size_t nodes);
  // The writers this node uses now.
  size_t in_use() const;

  // The writer (0 .. writers - 1) for a batch of `device`; Finished(device) once it is done.
  size_t Take(Id device);
  void Finished(Id device);

 private:
  const size_t writers_;
  mutable std::mutex mu_;
  size_t in_use_;                                             // guarded by mu_
  std::unordered_map<Id, std::pair<size_t, size_t>> on_way_;  // device → (writer, batches)
};

}  // namespace bysans::pg
