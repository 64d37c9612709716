/**
 * The series of one family by attribute set, found per measurement without the SDK's per-record hash
 * (which sorts the keys and JSON-stringifies them on every call). A measurement's attributes are looked up
 * in the order their object lists them, one Map step per name and per value ({@link KeyedCells}); the
 * first time a path is taken, its attributes are also keyed in name order ({@link canonicalKey}, length-
 * prefixed), so that two objects with the same attributes in another order still find one series. Values
 * are never joined into one string on the hot path, and the canonical key is unambiguous, so no label
 * value, whatever characters it holds, can reach the series of another attribute set.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';

/** One attribute, written unambiguously: `<length>:<name><s|j><length>:<value>` (`j`: a non-string value, as JSON). */
function entry(name: string, value: AttributeValue): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `${name.length}:${name}${typeof value === 'string' ? 's' : 'j'}${text.length}:${text}`;
}

/** The attributes in name order: equal for any two objects that hold the same attributes. */
export function canonicalKey(attributes: Attributes): string {
  let key = '';
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    if (value !== undefined) key += entry(name, value);
  }
  return key;
}

/** A step of the lookup: the next attribute's name, then its value (arrays by their JSON, apart from primitives). */
interface Step<C> {
  readonly values: Map<string | number | boolean, Node<C>>;
  json: Map<string, Node<C>> | undefined;
}

/** A node of the lookup trie: the attributes read so far, in the order the measurement's object lists them. */
interface Node<C> {
  readonly names: Map<string, Step<C>>;
  cell: C | undefined;
}

const newNode = <C>(): Node<C> => ({ names: new Map(), cell: undefined });

/** The cells of one family by attributes, made by `create` on first use (callers bound the label values). */
export class KeyedCells<C> {
  /**
   * Attribute names and values, one after another, in the object's order: each step is a Map lookup of a
   * string the caller usually already holds (label values come from BoundedLabel, names are constants),
   * whose hash V8 keeps with the string. Nothing is concatenated or allocated once a series exists.
   */
  readonly #root: Node<C> = newNode();
  readonly #byCanonicalKey = new Map<string, C>();
  readonly #create: (attributes: Attributes) => C;

  constructor(create: (attributes: Attributes) => C) {
    this.#create = create;
  }

  /** The cell of `attributes`. */
  get(attributes: Attributes): C {
    let node = this.#root;
    for (const name in attributes) {
      const value = attributes[name];
      if (value === undefined) continue;
      let step = node.names.get(name);
      if (step === undefined) node.names.set(name, (step = { values: new Map(), json: undefined }));
      let next: Node<C> | undefined;
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        next = step.values.get(value);
        if (next === undefined) step.values.set(value, (next = newNode()));
      } else {
        const json = JSON.stringify(value);
        next = (step.json ??= new Map()).get(json);
        if (next === undefined) step.json.set(json, (next = newNode()));
      }
      node = next;
    }
    return node.cell ?? this.#first(node, attributes);
  }

  #first(node: Node<C>, attributes: Attributes): C {
    const canonical = canonicalKey(attributes);
    let cell = this.#byCanonicalKey.get(canonical);
    if (cell === undefined) this.#byCanonicalKey.set(canonical, (cell = this.#create(attributes)));
    node.cell = cell;
    return cell;
  }

  /** Distinct attribute sets (series). */
  get size(): number {
    return this.#byCanonicalKey.size;
  }
}
