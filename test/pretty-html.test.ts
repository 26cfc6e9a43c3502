// The Source tab's formatted HTML (ui/src/lib/pretty-html.ts): one tag per line, indented by
// nesting, script and style bodies kept as written, and linear on hostile input.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { prettyHtml } from '../ui/src/lib/pretty-html.js';

describe('prettyHtml', () => {
  test('puts each tag on its own line, indented by nesting; void elements and comments do not nest', () => {
    const html = '<html><body><!-- hi --><table><tr><td>Hello   <b>world</b></td></tr></table><br><img src="x.png"><p>end</p></body></html>';
    assert.equal(
      prettyHtml(html),
      [
        '<html>',
        '  <body>',
        '    <!-- hi -->',
        '    <table>',
        '      <tr>',
        '        <td>',
        '          Hello',
        '          <b>',
        '            world',
        '          </b>',
        '        </td>',
        '      </tr>',
        '    </table>',
        '    <br>',
        '    <img src="x.png">',
        '    <p>',
        '      end',
        '    </p>',
        '  </body>',
        '</html>',
      ].join('\n'),
    );
  });

  test('keeps a style body as written, tags inside it included', () => {
    assert.equal(prettyHtml('<style>a > b { color: red }</style><p>x</p>'), '<style>\n  a > b { color: red }\n</style>\n<p>\n  x\n</p>');
  });

  test('an unclosed tag or comment runs to the end without losing text', () => {
    assert.equal(prettyHtml('<p>a<b'), '<p>\n  a\n  <b');
    assert.equal(prettyHtml('<!-- open'), '<!-- open');
  });

  test('is linear on hostile input: 100,000 unclosed tags and 20,000 unclosed style elements', () => {
    const time = (input: string): number => {
      const start = performance.now();
      prettyHtml(input);
      return performance.now() - start;
    };
    const small = time('<div>'.repeat(10_000) + '<style>'.repeat(2_000));
    const large = time('<div>'.repeat(100_000) + '<style>'.repeat(20_000));
    // Ten times the input: about ten times the time when linear, a hundred when quadratic.
    assert.ok(large < small * 40 + 50, `10x input took ${large.toFixed(1)} ms against ${small.toFixed(1)} ms`);
  });
});
