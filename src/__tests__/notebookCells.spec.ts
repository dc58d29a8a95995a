import { fallbackCells } from '../notebookCells';

describe('fallbackCells', () => {
  it('keeps sources, text outputs, errors and images, never HTML', () => {
    const cells = fallbackCells({
      cells: [
        { cell_type: 'markdown', source: ['# Title\n', 'text'], metadata: {} },
        {
          cell_type: 'code',
          execution_count: 2,
          source: 'print(1)\n2',
          metadata: {},
          outputs: [
            { output_type: 'stream', name: 'stdout', text: ['1\n'] },
            {
              output_type: 'execute_result',
              execution_count: 2,
              metadata: {},
              data: { 'text/plain': '2', 'text/html': '<b>2</b>' }
            },
            {
              output_type: 'display_data',
              metadata: {},
              data: { 'text/html': '<script>alert(1)</script>' }
            },
            {
              output_type: 'display_data',
              metadata: {},
              data: { 'image/png': 'iVBO\nRw0K', 'text/plain': '<Figure>' }
            },
            {
              output_type: 'error',
              ename: 'ValueError',
              evalue: 'bad',
              traceback: ['\u001b[31mValueError\u001b[0m: bad']
            }
          ]
        }
      ]
    });
    expect(cells).toEqual([
      {
        cellType: 'markdown',
        source: '# Title\ntext',
        executionCount: null,
        outputs: []
      },
      {
        cellType: 'code',
        source: 'print(1)\n2',
        executionCount: 2,
        outputs: [
          { kind: 'text', text: '1\n' },
          { kind: 'text', text: '2' },
          { kind: 'image', src: 'data:image/png;base64,iVBORw0K' },
          { kind: 'text', error: true, text: 'ValueError: bad' }
        ]
      }
    ]);
  });

  it('reads a notebook without cells as empty', () => {
    expect(fallbackCells({})).toEqual([]);
  });
});
