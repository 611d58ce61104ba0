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
import { N1QL_FUNCTIONS, N1QL_KEYWORDS } from '../../lib/cli/n1ql-words';


export const N1QL = SQLDialect.define({ keywords: N1QL_KEYWORDS.join(' '), builtin: N1QL_FUNCTIONS.join(' '), types: '', backslashEscapes: true, doubleQuotedStrings: true, identifierQuotes: '`', hashComments: false });

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
