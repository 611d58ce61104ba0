// CodeMirror 6 editors: JSON (with a parse-error lint), N1QL (SQL highlighting with Couchbase's
// keywords, completion of keywords and keyspaces) and JavaScript (view map/reduce functions).
import { useEffect, useRef } from 'preact/hooks';
import { EditorView, keymap, placeholder as placeholderExt } from '@codemirror/view';
import { EditorState, Compartment, type Extension } from '@codemirror/state';
import { basicSetup } from 'codemirror';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { sql, SQLDialect } from '@codemirror/lang-sql';
import { javascript } from '@codemirror/lang-javascript';
import { linter, lintGutter } from '@codemirror/lint';

const N1QL_KEYWORDS =
  'advise all alter analyze and any array as asc at begin between binary boolean break bucket build by call case cast cluster collate collection commit committed connect continue correlated cover create current database dataset datastore dataverse decrement declare default delete derived desc describe distinct do drop each element else end escape every except exclude execute exists explain false fetch filter first flatten flush following for force from ftsearch function golang grant group groupsi hash having if ignore ilike in include increment index infer inline inner insert intersect into is isolation javascript join key keys keyspace known language last left let letting level like limit lsm map mapping matched materialized merge minus missing namespace nest nl no not null nulls number object offset on option or order others outer over parse partition password path pool preceding prepare primary private privilege procedure probe public range raw read realm recursive reduce rename replace respect restrict return returning revoke right role roles rollback row rows satisfies savepoint schema scope select self semi set show some start statistics string system then ties to tran transaction trigger true truncate unbounded under union unique unknown unnest unset update upsert use user using validate value valued values via view when where while window with within work xor';
const N1QL_BUILTINS =
  'meta count sum avg min max array_agg array_length array_contains array_append array_concat array_distinct object_names object_values object_pairs lower upper length substr trim ltrim rtrim contains position replace split regexp_like regexp_contains regexp_replace str_to_millis millis_to_str now_str now_millis date_add_str date_diff_str date_part_str to_string to_number to_boolean to_array to_object type is_string is_number is_array is_object ifmissing ifnull ifmissingornull abs ceil floor round trunc sqrt power uuid base64_encode base64_decode';

export const N1QL = SQLDialect.define({ keywords: N1QL_KEYWORDS, builtin: N1QL_BUILTINS, types: '', backslashEscapes: true, doubleQuotedStrings: true, identifierQuotes: '`', hashComments: false });

export type Language = 'json' | 'n1ql' | 'javascript';

function languageOf(lang: Language, keyspaces: readonly string[]): Extension {
  if (lang === 'json') return [json(), linter(jsonParseLinter()), lintGutter()];
  if (lang === 'javascript') return javascript();
  return sql({ dialect: N1QL, upperCaseKeywords: true, schema: Object.fromEntries(keyspaces.map((k) => [k, []])) });
}

export interface EditorProps {
  value: string;
  language: Language;
  onChange?: (text: string) => void;
  /** Ctrl-Enter / Cmd-Enter. */
  onRun?: () => void;
  keyspaces?: readonly string[];
  readOnly?: boolean;
  placeholder?: string;
  minHeight?: string;
  testId?: string;
}

export function Editor(props: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | undefined>(undefined);
  const lang = useRef(new Compartment());
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const run = () => {
      latest.current.onRun?.();
      return latest.current.onRun !== undefined;
    };
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          keymap.of([{ key: 'Mod-Enter', run }]),
          basicSetup,
          lang.current.of(languageOf(props.language, props.keyspaces ?? [])),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) latest.current.onChange?.(u.state.doc.toString());
          }),
          EditorState.readOnly.of(props.readOnly === true),
          props.placeholder ? placeholderExt(props.placeholder) : [],
          EditorView.theme({ '&': { minHeight: props.minHeight ?? '8em' }, '.cm-scroller': { minHeight: props.minHeight ?? '8em' } }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
  }, []);

  // Outside changes (a document loaded, a history entry picked) replace the text.
  useEffect(() => {
    const v = view.current;
    if (v !== undefined && v.state.doc.toString() !== props.value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.value]);

  useEffect(() => {
    view.current?.dispatch({ effects: lang.current.reconfigure(languageOf(props.language, props.keyspaces ?? [])) });
  }, [props.language, (props.keyspaces ?? []).join(',')]);

  return <div class="editor" ref={host} data-testid={props.testId} />;
}
