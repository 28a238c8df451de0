// The part of qlobber that the broker persistence uses: the subscription trie aedes'
// own persistences use (qlobber ships no type declarations).
declare module "qlobber/aedes/qlobber-sub.js" {
  interface QlobberSubOptions {
    separator?: string;
    wildcard_one?: string;
    wildcard_some?: string;
    match_empty_levels?: boolean;
  }
  interface TrieSubscription {
    clientId: string;
    topic: string;
    qos: number;
    rh?: number;
    rap?: boolean;
    nl?: boolean;
  }
  class QlobberSub {
    constructor(options?: QlobberSubOptions);
    subscriptionsCount: number;
    add(topic: string, subscription: TrieSubscription): this;
    remove(topic: string, subscription: { clientId: string; topic: string }): this;
    match(topic: string): TrieSubscription[];
    clear(): this;
  }
  export = QlobberSub;
}
